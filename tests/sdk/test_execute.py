"""The /execute contract over real HTTP: results, refusals, and what an answer never carries."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sdk.factories import (
    PROVIDER_KEY,
    SECRET,
    call_body,
    execute,
    running,
    signed_headers,
)


def test_a_tool_result_is_answered_ok(client: httpx.Client) -> None:
    response = execute(client, call_body(payload={"text": "hello", "legs": [{"strike": 1}]}))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "result": {"text": "hello", "legs": 1}}
    assert response.headers["cache-control"] == "no-store"


def test_an_async_tool_gets_the_context_and_declared_provider_keys(client: httpx.Client) -> None:
    keys = {"openai": PROVIDER_KEY, "anthropic": "sk-undeclared"}
    body = call_body("whoami", execution_id="exec-42", caller_uid="u-7", provider_keys=keys)
    response = execute(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {
        "execution_id": "exec-42",
        "caller_uid": "u-7",
        "key_length": len(PROVIDER_KEY),
        "has_anthropic": False,  # not declared by the agent, so not handed to the tool
    }


def test_a_missing_provider_key_is_the_tools_refusal(client: httpx.Client) -> None:
    response = execute(client, call_body("whoami"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "MISSING_PROVIDER_KEY"


def test_provider_keys_are_never_logged(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for tool in ("whoami", "crash", "nope"):
        execute(client, call_body(tool, provider_keys={"openai": PROVIDER_KEY}))
    assert caplog.records, "the calls were logged"
    assert PROVIDER_KEY not in caplog.text


def test_an_unknown_tool_is_404(client: httpx.Client) -> None:
    response = execute(client, call_body("no_such_tool"))
    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == "UNKNOWN_TOOL"


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ({"text": "x" * 21}, {"text"}),
        ({"text": "ok", "legs": [{"strike": 1}, {"strike": -5}]}, {"legs[1].strike"}),
        ({"text": "ok", "legs": [{"strike": "TOPSECRET"}]}, {"legs[0].strike"}),
        ({"legs": "TOPSECRET"}, {"text", "legs"}),
        ("TOPSECRET", {""}),
    ],
)
def test_an_invalid_payload_is_400_with_paths_and_no_values(
    client: httpx.Client, payload: object, paths: set[str]
) -> None:
    response = execute(client, call_body(payload=payload))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert {d["path"] for d in error["details"]} == paths
    assert all(d["message"] for d in error["details"])
    assert "TOPSECRET" not in response.text and "x" * 21 not in response.text


@pytest.mark.parametrize(
    ("body", "detail_paths"),
    [
        (b"{not json", None),
        (b"[]", {""}),
        (json.dumps({"tool_name": "echo", "payload": {}}).encode(), {"context"}),
        (
            json.dumps({"tool_name": "echo", "payload": {}, "context": {"execution_id": "a b"}}),
            {"context.execution_id"},
        ),
    ],
)
def test_a_malformed_call_is_400(
    client: httpx.Client, body: bytes | str, detail_paths: set[str] | None
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    response = execute(client, raw)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_REQUEST"
    assert ({d["path"] for d in error["details"]} if "details" in error else None) == detail_paths


def test_a_tool_error_is_422_with_its_code(client: httpx.Client) -> None:
    response = execute(client, call_body("refuse"))
    assert response.status_code == 422
    assert response.json() == {
        "status": "error",
        "error": {"code": "TEXT_REFUSED", "message": "This text is refused"},
    }


def test_a_crash_is_500_without_its_text_and_is_logged(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = execute(client, call_body("crash", payload={"text": "CRASHDETAIL"}))
    assert response.status_code == 500
    assert response.json() == {
        "status": "error",
        "error": {"code": "TOOL_FAILED", "message": "The tool failed"},
    }
    assert "CRASHDETAIL" not in response.text and "RuntimeError" not in response.text
    failure = next(r for r in caplog.records if r.exc_info)
    assert failure.exc_info is not None
    assert "CRASHDETAIL" in str(failure.exc_info[1]), "the log has what the answer leaves out"


def test_a_result_json_cannot_carry_is_a_tool_failure(client: httpx.Client) -> None:
    response = execute(client, call_body("not_a_number"))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "TOOL_FAILED"


@pytest.fixture(scope="module")
def small_client() -> Iterator[httpx.Client]:
    with running(max_body_bytes=1024) as http:
        yield http


def test_a_body_over_the_cap_is_413(small_client: httpx.Client) -> None:
    body = call_body(payload={"text": "x" * 2000})
    response = execute(small_client, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_streamed_body_over_the_cap_is_413(small_client: httpx.Client) -> None:
    body = call_body(payload={"text": "x" * 2000})
    # A generator body goes out chunked, without a Content-Length to refuse up front.
    chunks = (body[i : i + 256] for i in range(0, len(body), 256))
    response = small_client.post("/execute", content=chunks, headers=signed_headers(body))
    assert response.status_code == 413


def test_a_body_under_the_cap_passes(small_client: httpx.Client) -> None:
    assert execute(small_client, call_body()).status_code == 200


@pytest.mark.parametrize(
    ("case", "headers", "code"),
    [
        ("unsigned", {}, "MISSING_SIGNATURE"),
        ("another agent", {"X-Agent-Auth": "agent_other"}, "WRONG_AGENT"),
        ("stale", {"X-Agora-Timestamp": str(int(time.time()) - 400)}, "STALE_TIMESTAMP"),
        ("bad signature", {"X-Agora-Signature": "v1=" + "0" * 64}, "BAD_SIGNATURE"),
    ],
)
def test_unauthenticated_calls_are_401(
    client: httpx.Client, case: str, headers: dict[str, str], code: str
) -> None:
    body = call_body()
    sent = signed_headers(body) | headers if headers else {"content-type": "application/json"}
    response = execute(client, body, sent)
    assert response.status_code == 401, case
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == code


def test_a_stale_call_signed_for_its_timestamp_is_401(client: httpx.Client) -> None:
    body = call_body()
    response = execute(client, body, signed_headers(body, timestamp=int(time.time()) - 301))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "STALE_TIMESTAMP"


def test_a_replayed_call_is_401(client: httpx.Client) -> None:
    body = call_body(execution_id="exec-replay")
    headers = signed_headers(body)
    assert execute(client, body, headers).status_code == 200
    replay = execute(client, body, headers)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "REPLAYED"


def test_a_call_signed_with_another_secret_is_401(client: httpx.Client) -> None:
    body = call_body()
    response = execute(client, body, signed_headers(body, secret=SECRET + "-other"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_SIGNATURE"


@pytest.mark.parametrize(
    "config",
    [{"secret": None}, {"hash_id": None}, {"secret": "too-short"}],
    ids=["no secret", "no hash id", "short secret"],
)
def test_without_credentials_every_call_is_refused(config: dict[str, Any]) -> None:
    with running(**config) as http:
        body = call_body()
        for headers in (signed_headers(body), {}):
            response = execute(http, body, headers)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "NOT_CONFIGURED"
        assert http.get("/health").status_code == 200


def test_other_routes_answer_in_the_envelope(client: httpx.Client) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = client.get("/execute")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert client.get("/openapi.json").status_code == 404
