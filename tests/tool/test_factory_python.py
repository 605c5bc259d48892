"""The python kind: a package whose models keep the schema contract, and its own tests pass."""

from __future__ import annotations

import ast
import gzip
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agora_common.models import AgentCard
from agora_registry.card_rules import validate_card
from agora_tool.factory import GeneratedPackage, generate, verify_format
from tests.tool.factory_support import (
    CONTACT_INPUT,
    assert_all_pass,
    http_request,
    python_request,
    run_package_tests,
    run_python,
    write_package,
)

REPO = Path(__file__).resolve().parents[2]
MODULE = "agora_meeting_booker"
SRC = f"src/{MODULE}"


@pytest.fixture(scope="module")
def package() -> GeneratedPackage:
    return generate(python_request())


@pytest.fixture(scope="module")
def written(package: GeneratedPackage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_package(package, tmp_path_factory.mktemp("python-package"))


@pytest.fixture(scope="module")
def models(package: GeneratedPackage, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The generated models module, imported under a name of its own."""
    path = tmp_path_factory.mktemp("models") / "models.py"
    path.write_text(package.files[f"{SRC}/models.py"], encoding="utf-8")
    spec = importlib.util.spec_from_file_location("generated_meeting_models", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


def test_the_package_layout(package: GeneratedPackage) -> None:
    assert package.name == "agora-meeting-booker"
    assert package.module == MODULE
    assert list(package.files) == sorted(package.files)
    assert set(package.files) == {
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "agent-card.json",
        "pyproject.toml",
        "ruff.toml",
        f"{SRC}/__init__.py",
        f"{SRC}/__main__.py",
        f"{SRC}/agent.py",
        f"{SRC}/models.py",
        f"{SRC}/py.typed",
        "tests/test_meeting_booker.py",
    }
    project = tomllib.loads(package.files["pyproject.toml"])["project"]
    assert project["name"] == "agora-meeting-booker"
    assert "agora-agent-sdk>=0.1" in project["dependencies"]
    assert "pydantic[email]>=2.12" in project["dependencies"]  # an email format is in the schema
    assert not any(d.startswith("httpx") for d in project["dependencies"])
    dockerfile = package.files["Dockerfile"]
    assert "RUN /app/.venv/bin/pip install ." in dockerfile
    assert 'CMD ["python", "-m", "agora_meeting_booker"]' in dockerfile


def test_the_card_is_one_the_registry_takes(package: GeneratedPackage) -> None:
    card = json.loads(package.files["agent-card.json"])
    assert card == package.card
    validate_card(card, local=False)
    model = AgentCard.model_validate(card)
    (tool,) = model.tools
    assert tool.name == "meeting_booker"
    assert tool.input_schema == CONTACT_INPUT
    assert tool.output_schema is not None
    assert model.deployment.image == "agora-meeting-booker:1.0.0"
    assert model.tags == ["calendar", "booking"]


def test_the_package_s_own_tests_pass(written: Path) -> None:
    assert_all_pass(run_package_tests(written))


def test_the_package_s_tests_catch_a_model_that_drifts_from_the_card(
    package: GeneratedPackage, tmp_path: Path
) -> None:
    drifted = write_package(package, tmp_path)
    models_file = drifted / SRC / "models.py"
    source = models_file.read_text()
    # The same module with one required field made optional: the contract no longer holds.
    required = '    priority: Literal["low", "normal", "high"]\n'
    assert required in source
    models_file.write_text(source.replace(required, required[:-1] + " | None = None\n"))
    done = run_package_tests(drifted)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "test_the_card_schemas_match_the_models" in done.stdout


VALID_INPUTS: list[dict[str, Any]] = [
    {
        "contact": {"email": "ada@example.com", "name": "Ada"},
        "when": "2025-03-01T09:30:00Z",
        "priority": "low",
    },
    {
        "contact": {
            "email": "grace@navy.example.org",
            "name": "Grace Hopper",
            "homepage": "https://example.org/grace?tab=1",
        },
        "when": "2025-03-01T09:30:00+02:00",
        "priority": "high",
        "attendees": [{"email": "a@example.com"}, {"email": "b@example.com", "role": "guest"}],
        "seats": 100,
    },
    {
        "contact": {"email": "x@example.com", "name": "x" * 40},
        "when": "2025-12-31T23:59:59.999Z",
        "priority": "normal",
        "attendees": [{"email": f"p{i}@example.com", "role": "host"} for i in range(5)],
        "seats": 1,
    },
]

OK = VALID_INPUTS[0]
INVALID_INPUTS: list[tuple[str, dict[str, Any]]] = [
    ("no contact", {k: v for k, v in OK.items() if k != "contact"}),
    ("no when", {k: v for k, v in OK.items() if k != "when"}),
    ("contact without email", {**OK, "contact": {"name": "Ada"}}),
    ("bad email", {**OK, "contact": {"email": "ada-at-example.com", "name": "Ada"}}),
    ("bad homepage", {**OK, "contact": {**OK["contact"], "homepage": "not a url"}}),
    ("empty name", {**OK, "contact": {"email": "ada@example.com", "name": ""}}),
    ("long name", {**OK, "contact": {"email": "ada@example.com", "name": "x" * 41}}),
    ("extra in contact", {**OK, "contact": {**OK["contact"], "phone": "123"}}),
    ("naive date-time", {**OK, "when": "2025-03-01T09:30:00"}),
    ("not a date-time", {**OK, "when": "next tuesday"}),
    ("priority off the enum", {**OK, "priority": "urgent"}),
    ("attendees empty", {**OK, "attendees": []}),
    ("too many attendees", {**OK, "attendees": [{"email": "a@example.com"}] * 6}),
    ("attendee bad email", {**OK, "attendees": [{"email": "nope"}]}),
    ("attendee role off the enum", {**OK, "attendees": [{"email": "a@example.com", "role": "x"}]}),
    ("attendees not a list", {**OK, "attendees": {"email": "a@example.com"}}),
    ("seats zero", {**OK, "seats": 0}),
    ("seats over", {**OK, "seats": 101}),
    ("seats a fraction", {**OK, "seats": 2.5}),
    ("undeclared property", {**OK, "notes": "hi"}),
]


def _input_model(models: ModuleType) -> type[BaseModel]:
    model: type[BaseModel] = models.MeetingBookerInput
    return model


@pytest.mark.parametrize("payload", VALID_INPUTS)
def test_the_input_model_accepts_every_valid_payload(models: ModuleType, payload: Any) -> None:
    parsed = _input_model(models).model_validate(payload)
    assert (
        parsed.model_dump(mode="json", by_alias=True, exclude_unset=True).keys() == payload.keys()
    )


@pytest.mark.parametrize(("what", "payload"), INVALID_INPUTS, ids=[w for w, _ in INVALID_INPUTS])
def test_the_input_model_refuses_every_invalid_payload(
    models: ModuleType, what: str, payload: Any
) -> None:
    with pytest.raises(ValidationError):
        _input_model(models).model_validate(payload)


def test_the_output_model_holds_the_output_schema(models: ModuleType) -> None:
    output: type[BaseModel] = models.MeetingBookerOutput
    output.model_validate({"booking_id": "b1", "confirmed": True})
    output.model_validate(
        {"booking_id": "b1", "confirmed": False, "starts": "2025-01-01T00:00:00Z"}
    )
    for bad in ({"confirmed": True}, {"booking_id": "b1", "confirmed": {"x": 1}}):
        with pytest.raises(ValidationError):
            output.model_validate(bad)


def test_two_generations_give_the_same_bytes(package: GeneratedPackage) -> None:
    again = generate(python_request())
    assert again.archive == package.archive
    assert again.digest == package.digest
    assert package.digest.startswith("sha256:")
    assert len(package.digest) == len("sha256:") + 64


def test_other_processes_give_the_same_bytes_too(package: GeneratedPackage) -> None:
    script = (
        "from agora_tool.factory import generate\n"
        "from tests.tool.factory_support import python_request\n"
        "print(generate(python_request()).digest)\n"
    )
    digests = set()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        digests.add(done.stdout.strip())
    assert digests == {package.digest}


def test_the_archive_holds_the_files_and_nothing_of_the_moment(package: GeneratedPackage) -> None:
    header = package.archive[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[3] & 0x08 == 0  # no file name
    assert header[4:8] == b"\0\0\0\0"  # mtime 0
    with tarfile.open(fileobj=io.BytesIO(package.archive), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == list(package.files)
        for member in members:
            assert (member.mtime, member.uid, member.gid) == (0, 0, 0)
            assert (member.uname, member.gname, member.mode) == ("", "", 0o644)
            extracted = tar.extractfile(member)
            assert extracted is not None
            assert extracted.read().decode() == package.files[member.name]
    assert gzip.decompress(package.archive)  # a plain gzip stream


def test_generated_code_is_formatted_and_lint_clean(package: GeneratedPackage) -> None:
    assert verify_format(package.files) == []
    for path, text in package.files.items():
        if path.endswith(".py"):
            ast.parse(text)


def test_verify_format_reports_what_ruff_finds(package: GeneratedPackage) -> None:
    files = {**package.files, f"{SRC}/extra.py": "import os\nx=1\n"}
    problems = verify_format(files)
    assert {(p.path, p.code) for p in problems} == {
        (f"{SRC}/extra.py", "unformatted"),
        (f"{SRC}/extra.py", "F401"),
        (f"{SRC}/extra.py", "I001"),
    }
    with pytest.raises(ValueError, match="relative path"):
        verify_format({"../escape.py": "x = 1\n"})


HOSTILE = (
    "Ends a string: \"\"\" ''' \" ' \\ and a newline\n"
    "{{ 7 * 7 }} {% raw %} ${HOME} `id` # not a comment\n"
    "\"); __import__('os').system('touch {sentinel}'); (\"\n"
    '"""\nimport os; os.system("touch {sentinel}")\n"""'
)


def test_owner_text_cannot_inject_code(tmp_path: Path) -> None:
    sentinel = tmp_path / "PWNED"
    hostile = HOSTILE.replace("{sentinel}", str(sentinel))
    prop = {"type": "string", "description": hostile, "default": hostile, "examples": [hostile]}
    schema = {
        "type": "object",
        "properties": {hostile: prop, "choice": {"type": "string", "enum": [hostile, "b"]}},
        "$defs": {hostile: {"type": "object"}},
    }
    package = generate(
        python_request(description=hostile, input_schema=schema, output_schema=schema)
    )
    root = write_package(package, tmp_path / "pkg")
    for path, text in package.files.items():
        if path.endswith(".py"):
            ast.parse(text)  # every file is still Python
    assert (
        tomllib.loads(package.files["pyproject.toml"])["project"]["name"] == "agora-meeting-booker"
    )
    assert json.loads(package.files["agent-card.json"])["description"] == hostile
    check = (
        "import json\n"
        f"from {MODULE}.agent import agent\n"
        f"from {MODULE} import models\n"
        "field = next(iter(models.MeetingBookerInput.model_fields.values()))\n"
        "print(json.dumps([agent.description, field.alias, field.description, field.default]))\n"
    )
    done = run_python(check, root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [hostile] * 4  # every one a value, unchanged
    assert run_package_tests(root).returncode == 0
    assert not sentinel.exists()


def test_an_llm_request_needs_its_implementation() -> None:
    request = python_request(kind="llm", provider="openai", model="gpt-4o-mini")
    with pytest.raises(ValueError, match="generate_llm"):
        generate(request)


def test_bandit_finds_nothing_of_medium_severity_or_more(written: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH, so `uv run bandit` cannot run")
    version = subprocess.run(
        [uv, "run", "--frozen", "bandit", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if version.returncode != 0:
        pytest.skip("bandit is not installed in the workspace's environment")
    http_root = write_package(generate(http_request()), tmp_path / "http")
    for root in (written, http_root):
        scan = subprocess.run(
            [uv, "run", "--frozen", "bandit", "-r", str(root), "-f", "json", "-q"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        report = json.loads(scan.stdout)
        assert report["errors"] == []
        assert report["metrics"]["_totals"]["loc"] > 100  # it did read the package
        serious = [r for r in report["results"] if r["issue_severity"] in ("MEDIUM", "HIGH")]
        assert serious == [], serious
        # Below medium, only the tests' asserts.
        assert {r["test_id"] for r in report["results"]} <= {"B101"}
        assert all("/tests/" in r["filename"] for r in report["results"])
