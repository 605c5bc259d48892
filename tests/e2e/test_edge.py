"""The gateway's edge over raw sockets: capped heads, abandoned bodies, malformed requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack
from tests.support.firebase import EmulatorUser
from tests.support.raw_http import exchange, head, recording, status_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[str]:
    with stack.serve_gateway(access_log=True) as url:
        yield url


def _envelope(answer: bytes, status: int, code: str) -> dict[str, object]:
    assert status_of(answer) == status, answer[:300]
    head_part, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head_part.lower()
    error: dict[str, object] = json.loads(body)["error"]
    assert error["code"] == code
    assert error["trace_id"]
    return error


def test_a_long_target_is_414_in_the_envelope(gateway: str) -> None:
    target = "/api/v1/registry/search?q=" + "a" * 100_000
    answer = exchange(gateway, head("GET", target, {"host": "gw"}))
    _envelope(answer, 414, "URI_TOO_LONG")


def test_large_headers_are_431_in_the_envelope(gateway: str) -> None:
    answer = exchange(
        gateway, head("GET", "/api/v1/registry/search", {"host": "gw", "x-big": "b" * 20_000})
    )
    _envelope(answer, 431, "HEADERS_TOO_LARGE")


def test_a_huge_head_is_refused_without_being_buffered(gateway: str) -> None:
    """Past the server's buffer bound it answers itself (plain 400) and closes: no 1 MB kept."""
    answer = exchange(
        gateway, head("GET", "/api/v1/registry/search", {"host": "gw", "x-big": "b" * 1_000_000})
    )
    assert status_of(answer) == 400
    assert b"Invalid HTTP request received." in answer


def test_a_body_framed_two_ways_is_400_in_the_envelope_and_the_connection_closes(
    gateway: str,
) -> None:
    headers = {"host": "gw", "content-length": "2", "transfer-encoding": "chunked"}
    request = head("POST", "/api/v1/agents/register", headers) + b"0\r\n\r\n"
    answer = exchange(gateway, request + head("GET", "/healthz", {"host": "gw"}))
    _envelope(answer, 400, "AMBIGUOUS_FRAMING")
    assert b"connection: close" in answer.lower()
    assert answer.count(b"HTTP/1.1 ") == 1, "nothing more is read on that connection"


def test_a_nul_in_a_header_gets_the_servers_plain_400(gateway: str) -> None:
    """Refused by the server's parser before any app code runs (docs/api.md)."""
    answer = exchange(
        gateway, head("GET", "/api/v1/registry/search", {"host": "gw", "x-nul": "a\x00b"})
    )
    assert status_of(answer) == 400
    assert b"Invalid HTTP request received." in answer


def test_an_aborted_body_is_a_prompt_400_with_no_error_log(
    gateway: str, people: dict[str, EmulatorUser]
) -> None:
    """Content-Length 1000, 10 bytes, then the client is gone: no 500, no 8 s wait."""
    headers = {
        "host": "gw",
        "content-type": "application/json",
        "content-length": "1000",
        **people["owner"].bearer,
    }
    request = head("POST", "/api/v1/agents/register", headers) + b'{"name": "'
    with recording() as logs:
        started = time.monotonic()
        answer = exchange(gateway, request, half_close=True)
        assert time.monotonic() - started < 2.0
        assert answer == b"" or status_of(answer) == 400
        line = "POST /api/v1/agents/register 400"
        deadline = time.monotonic() + 3
        while line not in logs.messages() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert time.monotonic() - started < 3.0, "the request ended promptly"
    messages = logs.messages()
    assert line in messages
    assert "unhandled error" not in messages
    assert not [m for m in messages if m.endswith(" 500")]
