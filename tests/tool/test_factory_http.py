"""The http kind: one tool per operation, calling its upstream through the SDK's guarded client."""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from agora_common.models import AgentCard
from agora_registry.card_rules import validate_card
from agora_tool.factory import GeneratedPackage, generate, verify_format
from tests.support.servers import serving
from tests.tool.factory_support import (
    assert_all_pass,
    http_request,
    run_package_tests,
    run_python,
    write_package,
)

MODULE = "agora_pet_store"
SRC = f"src/{MODULE}"
HITS: list[dict[str, Any]] = []


async def pet(request: Request) -> Response:
    pet_id = request.path_params["pet_id"]
    HITS.append(
        {
            "path": request.url.path,
            "query": list(request.query_params.multi_items()),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }
    )
    if pet_id == "redirect":
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)
    if pet_id == "big":
        return PlainTextResponse("x" * 1_000_001, media_type="application/json")
    if pet_id == "text":
        return PlainTextResponse("not json")
    if pet_id == "slow":
        await asyncio.sleep(3)
    return JSONResponse({"name": pet_id, "age": 3})


UPSTREAM = Starlette(routes=[Route("/base/pets/{pet_id:path}", pet)])

CALL = """
import asyncio, json, os, sys
from agora_agent_sdk import ToolError
from agora_pet_store import agent, models, upstream
upstream.DEADLINE_S = float(os.environ.get("DEADLINE_S", upstream.DEADLINE_S))
payload = models.GetPetByIdInput.model_validate(json.loads(sys.argv[1]))
try:
    print(json.dumps({"answer": asyncio.run(agent.get_pet_by_id(payload))}))
except ToolError as refused:
    print(json.dumps({"code": refused.code, "message": refused.message}))
"""


@pytest.fixture(scope="module")
def package() -> GeneratedPackage:
    return generate(http_request())


@pytest.fixture(scope="module")
def written(package: GeneratedPackage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_package(package, tmp_path_factory.mktemp("http-package"))


@pytest.fixture(scope="module")
def upstream_port() -> Iterator[int]:
    with serving(UPSTREAM) as base:
        port = httpx.URL(base).port
        assert port is not None
        yield port


def call_tool(root: Path, port: int, payload: dict[str, Any], **env: str) -> dict[str, Any]:
    HITS.clear()
    done = run_python(
        f"import sys; sys.argv[1:] = [{json.dumps(payload)!r}]\n{CALL}",
        root,
        {
            "AGORA_UPSTREAM_BASE_URL": f"http://127.0.0.1:{port}/base",
            "AGORA_AGENT_EGRESS_ALLOW": f"127.0.0.1:{port}",
            **env,
        },
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_package_layout_and_card(package: GeneratedPackage) -> None:
    assert {f"{SRC}/agent.py", f"{SRC}/upstream.py", "tests/test_pet_store.py"} <= set(
        package.files
    )
    project = tomllib.loads(package.files["pyproject.toml"])["project"]
    assert "httpx>=0.28" in project["dependencies"]
    assert "pydantic>=2.12" in project["dependencies"]
    validate_card(package.card, local=False)
    card = AgentCard.model_validate(package.card)
    assert [t.name for t in card.tools] == ["get_pet_by_id", "list_pets", "create_pet"]
    get, listing, create = card.tools
    assert get.output_schema is not None
    assert get.output_schema["required"] == ["name"]
    assert listing.output_schema is None
    assert create.input_schema["required"] == ["body"]
    assert "https://pets.example.com/v1" in package.files[f"{SRC}/upstream.py"]


def test_the_package_s_own_tests_pass_offline(written: Path) -> None:
    assert_all_pass(run_package_tests(written))


def test_the_package_s_tests_catch_an_undeclared_header(
    package: GeneratedPackage, tmp_path: Path
) -> None:
    leaky = write_package(package, tmp_path)
    client = leaky / SRC / "upstream.py"
    source = client.read_text()
    line = "    headers: dict[str, str] = {}\n"
    assert line in source
    client.write_text(source.replace(line, '    headers: dict[str, str] = {"x-leak": "1"}\n'))
    done = run_package_tests(leaky)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "sends_only_declared_parameters" in done.stdout


def test_path_parameters_are_quoted_and_undeclared_ones_refused(
    written: Path, upstream_port: int
) -> None:
    answer = call_tool(
        written, upstream_port, {"petId": "a/b c", "verbose": False, "X-Trace-Id": "t-1"}
    )
    assert answer == {"answer": {"name": "a/b c", "age": 3}}
    (hit,) = HITS
    assert hit["query"] == [("verbose", "false")]
    assert hit["headers"]["x-trace-id"] == "t-1"
    assert "authorization" not in hit["headers"]
    assert "cookie" not in hit["headers"]
    refused = run_python(
        "from agora_pet_store import models\n"
        "models.GetPetByIdInput.model_validate({'petId': 'a', 'session': 's'})\n",
        written,
    )
    assert refused.returncode == 1
    assert "Extra inputs are not permitted" in refused.stderr


@pytest.mark.parametrize(
    ("pet_id", "code"),
    [
        ("redirect", "UPSTREAM_ERROR"),  # answered as it is, never followed
        ("big", "UPSTREAM_TOO_LARGE"),
        ("text", "UPSTREAM_NOT_JSON"),
    ],
)
def test_upstream_answers_that_are_tool_errors(
    written: Path, upstream_port: int, pet_id: str, code: str
) -> None:
    assert call_tool(written, upstream_port, {"petId": pet_id})["code"] == code
    assert len(HITS) == 1


def test_a_slow_upstream_hits_the_deadline(written: Path, upstream_port: int) -> None:
    answer = call_tool(written, upstream_port, {"petId": "slow"}, DEADLINE_S="0.5")
    assert answer["code"] == "UPSTREAM_TIMEOUT"


@pytest.mark.parametrize("pet_id", ["..", ".", ""])
def test_a_path_parameter_cannot_climb_the_path(
    written: Path, upstream_port: int, pet_id: str
) -> None:
    assert call_tool(written, upstream_port, {"petId": pet_id})["code"] == "INVALID_PARAMETER"
    assert HITS == []


def test_a_private_upstream_is_refused_without_the_allow_list(
    written: Path, upstream_port: int
) -> None:
    answer = call_tool(written, upstream_port, {"petId": "a"}, AGORA_AGENT_EGRESS_ALLOW="")
    assert answer["code"] == "UPSTREAM_REFUSED"
    assert HITS == []


def test_http_packages_are_reproducible_and_clean(package: GeneratedPackage) -> None:
    assert generate(http_request()).archive == package.archive
    assert verify_format(package.files) == []


def test_the_base_url_override_reaches_the_client() -> None:
    package = generate(http_request(base_url="https://staging.pets.example.com"))
    assert "https://staging.pets.example.com" in package.files[f"{SRC}/upstream.py"]
    assert "https://pets.example.com/v1" not in package.files[f"{SRC}/upstream.py"]
