"""POST /execute over real HTTP: callers first, then the body's one rule, in the envelope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agora_common.identity import identity_headers
from agora_common.models import CallerKind, UserIdentity
from agora_executor.app import create_app
from agora_executor.settings import ExecutorSettings
from tests.support.factories import local_settings_kwargs, signer_for
from tests.support.raw_http import exchange, head, recording, status_of
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration

MAX = 2048
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _serve(dev_key: tuple[Path, Path], **overrides: object) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = ExecutorSettings(
        **local_settings_kwargs(
            *dev_key,
            url,
            max_request_bytes=MAX,
            access_log=True,
            # Nobody at these addresses: an execution that gets past its checks is a fast 503.
            service_urls={"registry": "http://127.0.0.1:9", "auth": "http://127.0.0.1:9"},
            **overrides,
        )
    )
    with serving(create_app(settings), port):
        yield url


@pytest.fixture(scope="module")
def executor(dev_key: tuple[Path, Path], emulator_env: dict[str, str]) -> Iterator[str]:
    yield from _serve(
        dev_key,
        firestore_emulator_host=emulator_env["FIRESTORE_EMULATOR_HOST"],
        redis_url=emulator_env["REDIS_URL"],
    )


@pytest.fixture(scope="module")
def storage_down(dev_key: tuple[Path, Path]) -> Iterator[str]:
    yield from _serve(dev_key)  # Firestore and Redis on closed ports


def as_gateway(dev_key: tuple[Path, Path], base: str, uid: str = "u-http") -> dict[str, str]:
    token = signer_for(dev_key[0], "gateway").sign(base)
    user = UserIdentity(kind=CallerKind.USER, uid=uid)
    return {"authorization": f"Bearer {token}", **identity_headers(user)}


BODY = b'{"agent_id": "a1", "tool_name": "t"}'


def post(
    base: str, headers: dict[str, str], content: bytes | Iterator[bytes] = BODY
) -> httpx.Response:
    sent = {"content-type": "application/json", "traceparent": TRACEPARENT, **headers}
    return httpx.post(f"{base}/execute", content=content, headers=sent, timeout=10)


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["code"] == code
    assert error["trace_id"] == TRACE_ID
    return error


def test_callers_are_checked_before_any_body_is_read(executor: str) -> None:
    _error(post(executor, {}, b"{"), 401, "UNAUTHENTICATED")
    _error(post(executor, {}, b"x" * (MAX + 1)), 413, "PAYLOAD_TOO_LARGE")  # never read


@pytest.mark.parametrize(
    ("content", "headers", "path"),
    [
        (b"{not json", {}, "$.body"),
        (b'{"agent_id": 7, "tool_name": "t"}', {}, "$.body.agent_id"),
        (b'{"tool_name": "t"}', {}, "$.body.agent_id"),
        (BODY, {"content-type": "text/plain"}, "$.body"),
        (BODY, {"idempotency-key": "has space"}, "$.header.Idempotency-Key"),
    ],
)
def test_bad_input_is_422_with_paths(
    executor: str,
    dev_key: tuple[Path, Path],
    content: bytes,
    headers: dict[str, str],
    path: str,
) -> None:
    response = post(executor, {**as_gateway(dev_key, executor), **headers}, content)
    error = _error(response, 422, "VALIDATION_FAILED")
    assert path in [detail["path"] for detail in error["details"]]  # type: ignore[attr-defined]


def test_merge_patch_json_is_json(executor: str, dev_key: tuple[Path, Path]) -> None:
    headers = {**as_gateway(dev_key, executor), "content-type": "application/merge-patch+json"}
    # Read and accepted: the registry being unreachable is what answers.
    _error(post(executor, headers), 503, "SERVICE_UNAVAILABLE")


def test_declared_and_streamed_bodies_past_the_cap_are_one_413(
    executor: str, dev_key: tuple[Path, Path]
) -> None:
    headers = as_gateway(dev_key, executor)
    declared = _error(post(executor, headers, b"x" * (MAX + 1)), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Iterator[bytes]:
        yield b'{"agent_id": "a1", "tool_name": "'
        for _ in range(10):
            yield b"y" * 300
        yield b'"}'

    streamed = _error(post(executor, headers, chunks()), 413, "PAYLOAD_TOO_LARGE")
    message = f"Request bodies are limited to {MAX} bytes"
    assert declared["message"] == streamed["message"] == message


def test_a_domain_error_is_the_envelope(executor: str, dev_key: tuple[Path, Path]) -> None:
    headers = {**as_gateway(dev_key, executor), "x-agent-auth": "agent_nobody"}
    _error(post(executor, headers), 403, "AGENT_AUTH_FAILED")


def test_a_storage_outage_is_a_fast_503(storage_down: str, dev_key: tuple[Path, Path]) -> None:
    headers = {**as_gateway(dev_key, storage_down), "x-agent-auth": "agent_nobody"}
    started = time.monotonic()
    _error(post(storage_down, headers), 503, "SERVICE_UNAVAILABLE")
    assert time.monotonic() - started < 4.0


def test_an_aborted_body_is_a_prompt_400_and_no_error_log(
    executor: str, dev_key: tuple[Path, Path]
) -> None:
    """Content-Length 1000, 10 bytes, then the client is gone: not a server error."""
    headers = {
        "host": "executor",
        "content-type": "application/json",
        "content-length": "1000",
        **as_gateway(dev_key, executor),
    }
    with recording() as logs:
        started = time.monotonic()
        request = head("POST", "/execute", headers) + b'{"agent_id'
        answer = exchange(executor, request, half_close=True)
        assert time.monotonic() - started < 2.0
        assert answer == b"" or status_of(answer) == 400
        deadline = time.monotonic() + 3
        while "POST /execute 400" not in logs.messages() and time.monotonic() < deadline:
            time.sleep(0.05)
    messages = logs.messages()
    assert "POST /execute 400" in messages
    assert "unhandled error" not in messages
    assert not [r for r in logs.records if r.levelname in ("ERROR", "CRITICAL")]
