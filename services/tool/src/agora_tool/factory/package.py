"""`generate(request)`: the whole package, its card, and a reproducible archive of it."""

from __future__ import annotations

import ast
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora_tool.factory.archive import digest, tar_gz
from agora_tool.factory.blueprint import Blueprint, plan
from agora_tool.factory.examples import examples_for
from agora_tool.factory.http_cases import http_case
from agora_tool.factory.render import render
from agora_tool.factory.ruff_runner import format_source
from agora_tool.factory.spec import GenerateRequest, ToolKind

# The generated upstream client's limits (http kind).
UPSTREAM_TIMEOUT_S = 10.0
UPSTREAM_DEADLINE_S = 30.0
UPSTREAM_MAX_RESPONSE_BYTES = 1_000_000


@dataclass(frozen=True)
class GeneratedPackage:
    name: str  # the distribution, agora-<slug>
    module: str  # the import package, agora_<slug>
    files: dict[str, str]  # relative path -> text, sorted by path
    card: dict[str, Any]  # agent-card.json
    archive: bytes  # the files as .tar.gz, members at their relative paths
    digest: str  # sha256:<hex> of the archive


def generate(request: GenerateRequest) -> GeneratedPackage:
    """The package of a python or http request (llm: `agora_tool.factory.llm.generate_llm`)."""
    if request.kind is ToolKind.LLM:
        raise ValueError("an llm request needs its implementation: use generate_llm")
    return build(plan(request))


def build(blueprint: Blueprint, implementation: str | None = None) -> GeneratedPackage:
    """Render, format and pack a planned package; `implementation` is an llm tool's module body."""
    files = _render(blueprint, implementation)
    with tempfile.TemporaryDirectory(prefix="agora-factory-") as scratch:
        config = Path(scratch) / "ruff.toml"
        config.write_text(files["ruff.toml"], encoding="utf-8")
        for path in [p for p in files if p.endswith(".py")]:
            files[path] = format_source(files[path], path, config=config)
    ordered = dict(sorted(files.items()))
    archive = tar_gz(ordered)
    return GeneratedPackage(
        name=blueprint.dist,
        module=blueprint.module,
        files=ordered,
        card=blueprint.card(),
        archive=archive,
        digest=digest(archive),
    )


def _render(blueprint: Blueprint, implementation: str | None) -> dict[str, str]:
    context = {
        **blueprint.context(),
        "implemented": implementation is not None,
        "timeout_s": UPSTREAM_TIMEOUT_S,
        "deadline_s": UPSTREAM_DEADLINE_S,
        "max_response_bytes": UPSTREAM_MAX_RESPONSE_BYTES,
    }
    src = f"src/{blueprint.module}"
    files = {
        "pyproject.toml": render("pyproject.toml.j2", **context),
        "ruff.toml": render("ruff.toml.j2", **context),
        "Dockerfile": render("Dockerfile.j2", **context),
        ".dockerignore": render("dockerignore.j2", **context),
        "README.md": render("README.md.j2", **context),
        "agent-card.json": json.dumps(blueprint.card(), indent=2, ensure_ascii=False) + "\n",
        f"{src}/__init__.py": render("init.py.j2", **context),
        f"{src}/__main__.py": render("main.py.j2", **context),
        f"{src}/py.typed": "",
        f"{src}/models.py": render("models.py.j2", models_source=blueprint.models_source),
    }
    test = f"tests/test_{blueprint.slug}.py"
    if blueprint.kind is ToolKind.HTTP:
        files[f"{src}/agent.py"] = render("agent_http.py.j2", **context)
        files[f"{src}/upstream.py"] = render("upstream.py.j2", **context)
        cases = [
            {"tool": tool, "http": case}
            for tool in blueprint.tools
            if (case := http_case(tool)) is not None
        ]
        files[test] = render("test_http.py.j2", **context, cases=cases)
        return files
    tool = blueprint.tools[0]
    sides = []
    for label, model, schema in (
        ("input", "INPUT", tool.input_schema),
        ("output", "OUTPUT", tool.output_schema or {}),
    ):
        found = examples_for(schema)
        sides.append(
            {"label": label, "model": model, "valid": found.valid, "invalid": found.invalid}
        )
    files[f"{src}/agent.py"] = render("agent_python.py.j2", **context, tool=tool)
    files[test] = render("test_python.py.j2", **context, tool=tool, sides=sides)
    if implementation is not None:
        files[f"{src}/implementation.py"] = render(
            "implementation.py.j2",
            **context,
            tool=tool,
            model_classes=model_classes(blueprint.models_source),
            implementation=implementation,
        )
    return files


def model_classes(models_source: str) -> list[str]:
    """The class names a models module defines, in order."""
    tree = ast.parse(models_source)
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
