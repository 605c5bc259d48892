"""POST /internal/package-checks, served for real over HTTP on the session's emulators: who may
call it, what it refuses, and what it answers for small packages (the real scanners and the
package's own tests run each time, a few seconds a check)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_tool.factory import generate
from agora_vetting.app import create_app
from agora_vetting.models import PACKAGE_MAX_BYTES, PACKAGE_MAX_FILES
from agora_vetting.scanners import source_digest
from agora_vetting.settings import VettingSettings
from tests.support.calls import CallsAsService
from tests.support.factories import local_fleet
from tests.support.servers import free_port, serving
from tests.tool.factory_support import http_request, python_request

pytestmark = pytest.mark.integration
ROUTE = "/internal/package-checks"

CLEAN = {
    "src/weather/__init__.py": (
        '"""A small tool package."""\n\n'
        "from pydantic import BaseModel\n\n\n"
        "class Forecast(BaseModel):\n    city: str\n    celsius: float\n\n\n"
        "def fahrenheit(forecast: Forecast) -> float:\n"
        "    return forecast.celsius * 9 / 5 + 32\n"
    ),
    "tests/test_weather.py": (
        "from weather import Forecast, fahrenheit\n\n\n"
        "def test_freezing():\n"
        "    assert fahrenheit(Forecast(city='Oslo', celsius=0)) == 32\n\n\n"
        "def test_boiling():\n"
        "    assert fahrenheit(Forecast(city='Lima', celsius=100)) == 212\n"
    ),
}
FAILING = {
    **CLEAN,
    "tests/test_wrong.py": (
        "from weather import Forecast, fahrenheit\n\n\n"
        "def test_body_temperature():\n"
        "    assert fahrenheit(Forecast(city='x', celsius=37)) == 99\n"
    ),
}


@dataclass
class Vetting(CallsAsService):
    url: str
    project: str
    key_file: Path
    http: httpx.AsyncClient

    async def check(
        self, files: dict[str, str], label: str = "weather", service: str | None = "tool"
    ) -> httpx.Response:
        body = {"files": files, "label": label}
        return await self.call("POST", ROUTE, None, service=service, json=body)


@contextmanager
def serve_vetting(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str], **overrides: Any
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fleet = local_fleet(dev_key, emulator_env, project, vetting=url)
    with serving(create_app(fleet.settings(VettingSettings, **overrides)), port):
        yield url


@pytest.fixture(scope="module")
def project() -> str:
    return f"demo-agora-packages-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def served(dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]) -> Iterator[str]:
    with serve_vetting(dev_key, project, emulator_env) as url:
        yield url


@pytest.fixture
async def vetting(served: str, dev_key: tuple[Path, Path], project: str) -> AsyncIterator[Vetting]:
    async with httpx.AsyncClient(timeout=180) as http:
        yield Vetting(served, project, dev_key[0], http)


def by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in answer["checks"]}


# --- who may call ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [
        ("gateway", 403, "CALLER_NOT_ALLOWED"),
        ("registry", 403, "CALLER_NOT_ALLOWED"),
        ("executor", 403, "CALLER_NOT_ALLOWED"),  # not a caller of vetting at all
        (None, 401, "UNAUTHENTICATED"),
    ],
)
async def test_only_the_tool_service_may_ask(
    vetting: Vetting, service: str | None, status: int, code: str
) -> None:
    response = await vetting.check(CLEAN, service=service)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


# --- what it refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../escape.py", "'..' segment"),
        ("src/../../escape.py", "'..' segment"),
        ("/etc/cron.d/x", "not absolute"),
        ("src\\weather.py", "no backslash"),
        ("src//weather.py", "empty"),
        ("./weather.py", "'.' "),
        ("x" * 256, "at most 255 characters"),
        ("src/__pycache__/weather.py", "a folder scans skip"),
        ("src/we\nather.py", "control characters"),
    ],
)
async def test_bad_paths_are_refused_in_the_envelope(
    vetting: Vetting, path: str, message: str
) -> None:
    response = await vetting.check({path: "x = 1\n", **CLEAN})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["trace_id"]
    assert any(message in detail["message"] for detail in error["details"]), error
    assert all(detail["path"].startswith("$.body.files") for detail in error["details"])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({f"m{i}.py": "" for i in range(PACKAGE_MAX_FILES + 1)}, "at most 500 files"),
        (
            {"a.py": "x" * (PACKAGE_MAX_BYTES // 2 + 1), "b.py": "x" * (PACKAGE_MAX_BYTES // 2)},
            "MiB",
        ),
        ({"src": "", "src/a.py": ""}, "both a file and a folder"),
        ({}, "no files"),
    ],
)
async def test_packages_beyond_the_bounds_are_refused(
    vetting: Vetting, files: dict[str, str], message: str
) -> None:
    response = await vetting.check(files)
    assert response.status_code == 422, response.text[:500]
    assert any(message in d["message"] for d in response.json()["error"]["details"])


async def test_a_body_over_the_service_limit_is_413(vetting: Vetting) -> None:
    response = await vetting.check({"a.py": "x" * (4 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("label", ["", "two\nlines", "bidi\u202eevil", "x" * 129])
async def test_bad_labels_are_refused(vetting: Vetting, label: str) -> None:
    response = await vetting.check(CLEAN, label=label)
    assert response.status_code == 422, response.text
    assert all(d["path"] == "$.body.label" for d in response.json()["error"]["details"])


# --- what it answers ---------------------------------------------------------------------------


async def test_a_clean_package_is_clean_with_its_tests_passed(
    vetting: Vetting, tmp_path: Path
) -> None:
    response = await vetting.check(CLEAN, label="Weather forecast")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"label", "verdict", "reason", "checks", "source_digest", "duration_ms"}
    assert (answer["label"], answer["verdict"], answer["reason"]) == (
        "Weather forecast",
        "clean",
        None,
    )
    checks = by_name(answer)
    assert list(checks) == ["bandit", "semgrep", "detect-secrets", "tests"]
    assert all(check["status"] == "ok" for check in checks.values()), checks
    assert all(check["version"] for check in checks.values()), checks
    assert checks["tests"]["reason"] == "2 passed"
    # The digest is the one a scan of the same files in a folder gives.
    for path, text in CLEAN.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert answer["source_digest"] == source_digest(tmp_path)
    assert 0 < answer["duration_ms"] < 170_000


async def test_a_failing_test_makes_findings_that_name_it(vetting: Vetting) -> None:
    response = await vetting.check(FAILING)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verdict"] == "findings"
    tests = by_name(answer)["tests"]
    assert (tests["status"], tests["reason"]) == ("findings", "2 passed, 1 failed")
    (finding,) = tests["findings"]
    assert finding["rule_id"] == "test-failed"
    assert finding["severity"] == "high"
    assert (finding["path"], finding["line"]) == ("tests/test_wrong.py", 4)
    assert finding["message"].startswith("tests/test_wrong.py::test_body_temperature failed")


async def test_a_package_without_tests_is_clean_and_says_so(vetting: Vetting) -> None:
    response = await vetting.check({"src/weather/__init__.py": CLEAN["src/weather/__init__.py"]})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verdict"] == "clean"
    assert {k: by_name(answer)["tests"][k] for k in ("status", "reason")} == {
        "status": "skipped",
        "reason": "no tests",
    }


async def test_unsafe_code_in_a_package_is_found(vetting: Vetting) -> None:
    unsafe = {
        "src/run/__init__.py": (
            "import subprocess\n\n\ndef run(command):\n"
            "    return subprocess.run(command, shell=True)\n"
        ),
    }
    answer = (await vetting.check(unsafe)).json()
    assert answer["verdict"] == "findings"
    assert by_name(answer)["bandit"]["status"] == "findings"


async def test_the_tool_factorys_packages_come_out_clean(vetting: Vetting) -> None:
    """What the tool service sends: a generated package's files, labelled with its card's name.
    Its own tests pass in the sandbox (the http one against a fake upstream on its loopback)."""
    for request in (python_request(), http_request()):
        package = generate(request)
        label = str(package.card["name"])
        response = await vetting.check(package.files, label=label)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["label"], answer["verdict"]) == (label, "clean"), answer
        tests = by_name(answer)["tests"]
        assert tests["status"] == "ok", tests
        assert tests["reason"] and tests["reason"].endswith(" passed"), tests


# --- load ---------------------------------------------------------------------------------------


async def test_checks_beyond_the_slots_wait_then_get_503(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> None:
    """One slot, a short wait: of three checks sent together (each holding the slot for
    seconds: its test sleeps), at least one finds the slot busy and is told when to retry."""
    slow = {"tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(4)\n"}
    overrides = {"package_check_concurrency": 1, "package_check_wait_s": 0.2}
    with serve_vetting(dev_key, project, emulator_env, **overrides) as url:
        async with httpx.AsyncClient(timeout=180) as http:
            vetting = Vetting(url, project, dev_key[0], http)
            answers = await asyncio.gather(*(vetting.check(slow) for _ in range(3)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses[0] == 200, [a.text for a in answers]
    assert 503 in statuses, statuses
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert busy.json()["error"]["code"] == "PACKAGE_CHECKS_BUSY"
    assert busy.headers["retry-after"] == "1"


async def test_a_caller_within_the_wait_gets_its_turn(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> None:
    files = {"tests/test_quick.py": "def test_quick():\n    assert True\n"}
    overrides = {"package_check_concurrency": 1, "package_check_wait_s": 60}
    with serve_vetting(dev_key, project, emulator_env, **overrides) as url:
        async with httpx.AsyncClient(timeout=180) as http:
            vetting = Vetting(url, project, dev_key[0], http)
            answers = await asyncio.gather(vetting.check(files), vetting.check(files))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert all(answer.json()["verdict"] == "clean" for answer in answers)
