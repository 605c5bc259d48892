"""The llm kind against a fake OpenAI-compatible provider on loopback: never a real network call."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from agora_tool.factory import (
    GenerateRequest,
    LlmEndpoint,
    ModelFailed,
    generate_llm,
    verify_format,
    write_implementation,
)
from agora_tool.factory.blueprint import Blueprint, plan
from agora_tool.factory.llm import endpoint_for
from tests.support.servers import free_port, serving
from tests.tool.factory_support import run_package_tests, run_python, write_package

KEY = "sk-test-4f1d2c3b5a69788796a5b4c3d2e1f0aa"
CALLS: list[dict[str, Any]] = []
REPLY: dict[str, Any] = {}

GOOD = '''Here is the tool:

```python
from __future__ import annotations

from agora_agent_sdk import ToolError
from agora_adder.models import AdderInput, AdderOutput

LIMIT = 10**9


def _checked(value: int) -> int:
    if abs(value) > LIMIT:
        raise ToolError("TOO_LARGE", "Each number must be at most 1e9 in size")
    return value


def adder(payload: AdderInput) -> AdderOutput:
    """The sum of a and b."""
    return AdderOutput(sum=_checked(payload.a) + _checked(payload.b))
```

It refuses numbers that are too large.
'''


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


provider = FastAPI()


@provider.post("/v1/chat/completions")
async def chat(request: Request) -> Response:
    CALLS.append({"headers": dict(request.headers), "body": await request.json()})
    await asyncio.sleep(REPLY.get("delay", 0))
    if "raw" in REPLY:
        return PlainTextResponse(REPLY["raw"], status_code=REPLY.get("status", 200))
    return JSONResponse(
        completion(REPLY.get("content", GOOD)), status_code=REPLY.get("status", 200)
    )


def adder_request() -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "name": "Adder",
            "description": "Adds two integers a and b and answers their sum.",
            "kind": "llm",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_schema": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
                "additionalProperties": False,
            },
            "output_schema": {
                "type": "object",
                "properties": {"sum": {"type": "integer"}},
                "required": ["sum"],
            },
        }
    )


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with serving(provider) as base:
        yield base


@pytest.fixture(scope="module")
def blueprint() -> Blueprint:
    return plan(adder_request())


@pytest.fixture(autouse=True)
def _fresh_provider() -> None:
    CALLS.clear()
    REPLY.clear()


async def test_the_model_s_code_becomes_a_package_whose_tests_pass(
    provider_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    package = await generate_llm(adder_request(), api_key=KEY, base_url=provider_url)
    implementation = package.files["src/agora_adder/implementation.py"]
    assert implementation.count("from __future__ import annotations") == 1
    assert "def adder(payload: AdderInput) -> AdderOutput:" in implementation
    assert "It refuses numbers" not in implementation  # only the fenced block
    assert verify_format(package.files) == []
    root = write_package(package, tmp_path)
    done = run_package_tests(root, {"PYTEST_ADDOPTS": "-vv"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_the_implementation_answers_the_output_model_or_refuses PASSED" in done.stdout
    answer = run_python(
        "from agora_adder import agent, models\n"
        "print(agent.adder(models.AdderInput(a=2, b=40)).model_dump_json())\n",
        root,
    )
    assert answer.stdout.strip() == '{"sum":42}', answer.stderr
    # What the provider was asked, and with which key.
    (call,) = CALLS
    assert call["headers"]["authorization"] == f"Bearer {KEY}"
    assert call["body"]["model"] == "gpt-4o-mini"
    assert call["body"]["temperature"] == 0
    system, user = call["body"]["messages"]
    assert "def adder(payload: AdderInput) -> AdderOutput:" in system["content"]
    assert json.loads(user["content"])["description"] == adder_request().description
    # The key went to the provider only: not into the package, not into any log.
    assert all(KEY not in text for text in package.files.values())
    assert KEY not in caplog.text


async def test_the_caller_s_client_is_the_one_used(provider_url: str, blueprint: Blueprint) -> None:
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        sent.append(str(request.url))

    endpoint = LlmEndpoint(provider_url, "gpt-4o-mini", KEY)
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
        code = await write_implementation(blueprint, endpoint, client=client)
        assert not client.is_closed  # the caller's to close
    assert sent == [f"{provider_url}/v1/chat/completions"]
    assert code.startswith("LIMIT = 10**9")


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("I cannot help with that.", "no ```python block"),
        ("```\ndef adder(payload): ...\n```", "no ```python block"),
        (fenced("def adder(payload:\n    return 1"), "not valid Python"),
        (fenced("def add(payload):\n    return 1"), "does not define adder(payload) once"),
        (fenced("def adder(payload, extra):\n    return 1"), "does not define adder(payload)"),
        (fenced("def adder():\n    return 1"), "does not define adder(payload)"),
        (fenced("async def adder(payload):\n    return 1"), "does not define adder(payload)"),
        (
            fenced("def adder(payload):\n    return 1\n\n\ndef adder(payload):\n    return 2"),
            "once",
        ),
        (fenced("import os\nos.system('id')\n\ndef adder(payload):\n    return 1"), "at import"),
        (fenced("if True:\n    def adder(payload):\n        return 1"), "at import"),
        (
            fenced("import os\nX = os.system('id')\n\ndef adder(payload):\n    return 1"),
            "at import",
        ),
        (fenced("x = 1\n" * 10_000 + "def adder(payload):\n    return 1"), "longer than"),
    ],
)
async def test_code_that_cannot_be_the_tool_is_refused(
    provider_url: str, blueprint: Blueprint, content: str, message: str
) -> None:
    REPLY["content"] = content
    with pytest.raises(ModelFailed, match=re.escape(message)) as refused:
        await write_implementation(blueprint, LlmEndpoint(provider_url, "m", KEY))
    assert refused.value.status_code == 502
    assert refused.value.code == "LLM_FAILED"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"status": 401, "raw": "bad key " + KEY}, r"refused the key \(401\)"),
        ({"status": 403, "raw": "{}"}, r"refused the key \(403\)"),
        ({"status": 500, "raw": "{}"}, "answered 500"),
        ({"raw": "not json"}, "not a chat completion"),
        ({"raw": json.dumps({"choices": []})}, "not a chat completion"),
        ({"raw": json.dumps(completion("x") | {"choices": [{"message": {}}]})}, "not a chat"),
        ({"raw": json.dumps({"choices": [{"message": {"content": None}}]})}, "has no text"),
        ({"raw": "x" * 5000}, "too large"),
        ({"delay": 2}, "did not answer in time"),
    ],
)
async def test_provider_failures_are_llm_failed_without_the_key(
    provider_url: str, blueprint: Blueprint, reply: dict[str, Any], message: str
) -> None:
    REPLY.update(reply)
    endpoint = LlmEndpoint(provider_url, "m", KEY, timeout_s=0.5, max_response_bytes=4000)
    with pytest.raises(ModelFailed, match=message) as refused:
        await write_implementation(blueprint, endpoint)
    assert KEY not in refused.value.message
    assert KEY not in str(refused.value.details)


async def test_an_unreachable_provider_is_llm_failed(blueprint: Blueprint) -> None:
    endpoint = LlmEndpoint(f"http://127.0.0.1:{free_port()}", "m", KEY, timeout_s=2)
    with pytest.raises(ModelFailed, match="could not be reached"):
        await write_implementation(blueprint, endpoint)


def test_the_key_stays_out_of_the_endpoint_s_repr() -> None:
    endpoint = endpoint_for(adder_request(), KEY)
    assert endpoint.base_url == "https://api.openai.com"
    assert endpoint.model == "gpt-4o-mini"
    assert KEY not in repr(endpoint)
    assert endpoint_for(adder_request(), KEY, "http://127.0.0.1:9").base_url == (
        "http://127.0.0.1:9"
    )
