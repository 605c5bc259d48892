"""`verify_format(files)`: what ruff says of a package's formatting and lint, as problems.

The package is written to a scratch directory and checked with its own `ruff.toml` (or the
factory's rules when it has none). Security scans and running the package's tests belong to the
vetting service, which runs them in its sandbox.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from agora_tool.factory.render import render
from agora_tool.factory.ruff_runner import RuffRun, run_ruff


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the package
    line: int | None
    code: str  # a ruff rule (F401), or "unformatted"
    message: str


def _safe_path(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"not a relative path inside the package: {path!r}")
    return relative


def verify_format(files: Mapping[str, str]) -> list[Problem]:
    """Files ruff would reformat, and every lint finding, sorted by path and line."""
    with tempfile.TemporaryDirectory(prefix="agora-verify-") as scratch:
        root = Path(scratch).resolve()
        for path, text in files.items():
            target = root / _safe_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        config = root / "ruff.toml"
        if "ruff.toml" not in files:
            config.write_text(render("ruff.toml.j2", module="agora_package"), encoding="utf-8")
        common = ["--config", str(config), "--output-format", "json", "--no-cache", "."]
        problems = [
            *_problems(run_ruff(["format", "--check", *common], cwd=root), root),
            *_problems(run_ruff(["check", "--no-fix", *common], cwd=root), root),
        ]
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.code))


def _problems(run: RuffRun, root: Path) -> list[Problem]:
    if run.returncode == 0:
        return []
    try:
        findings: list[dict[str, Any]] = json.loads(run.stdout)
    except ValueError:
        return [Problem(".", None, "ruff", (run.stderr or run.stdout).strip()[:500])]
    problems = []
    for finding in findings:
        filename = Path(str(finding.get("filename", ".")))
        path = filename.relative_to(root) if filename.is_relative_to(root) else filename
        location = finding.get("location") or {}
        problems.append(
            Problem(
                path=path.as_posix(),
                line=location.get("row"),
                code=str(finding.get("code") or "ruff"),
                message=str(finding.get("message") or ""),
            )
        )
    return problems
