"""The services' HTTP protocol: one write per small response, and HTTP unchanged otherwise."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from agora_common.server_protocol import _HeadHeld
from tests.support.servers import serving


class Recording:
    """Stands in for the socket transport: records every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_the_head_leaves_with_the_first_body_chunk() -> None:
    sock = Recording()
    held = _HeadHeld(sock)  # type: ignore[arg-type]
    held.write(HEAD)
    assert sock.writes == []
    held.write(b"{}")
    assert sock.writes == [HEAD + b"{}"]
    held.write(b"more")
    assert sock.writes == [HEAD + b"{}", b"more"]


def test_an_interim_100_continue_is_not_held() -> None:
    sock = Recording()
    held = _HeadHeld(sock)  # type: ignore[arg-type]
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert sock.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_closing_sends_a_held_head_first() -> None:
    sock = Recording()
    held = _HeadHeld(sock)  # type: ignore[arg-type]
    held.write(HEAD)
    held.close()
    assert sock.writes == [HEAD]
    assert sock.closed
    assert held.is_closing()  # everything else is the socket transport's own


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = FastAPI()

    @app.get("/json")
    async def small() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/empty", status_code=204)
    async def empty() -> Response:
        return Response(status_code=204)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"one,", b"two,", b"three"):
                yield part
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    with serving(app) as url:
        yield url


def test_responses_are_whole_over_real_http(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        for _ in range(3):  # on one keep-alive connection
            assert client.get("/json").json() == {"hello": "world"}
        empty = client.get("/empty")
        assert empty.status_code == 204 and empty.content == b""
        head = client.head("/json")
        assert head.status_code == 405 and head.content == b""  # a head with no body leaves too
        assert client.get("/stream").text == "one,two,three"
        assert client.get("/missing").status_code == 404
        assert client.post("/echo", content=b"x" * 300_000).content == b"x" * 300_000


def test_a_small_answer_arrives_in_one_segment(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /json HTTP/1.1\r\nhost: x\r\n\r\n")
        first = sock.recv(65536)  # head and body were one write, so one read has both
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b'{"hello":"world"}')


def test_expect_100_continue_still_gets_its_interim_answer(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(5)
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = b""
        while not answer.endswith(b"hello"):
            chunk = sock.recv(65536)
            assert chunk
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
