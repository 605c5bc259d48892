"""The lean HTTP/1.1 transport against a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from agora_common.http1 import Http1Transport
from tests.support.servers import free_port, serving

app = FastAPI()
peers: list[str] = []


@app.post("/echo")
async def echo(request: Request) -> dict[str, object]:
    body = await request.body()
    return {"length": len(body), "head": body[:16].decode(), "te": request.headers.get("te")}


@app.get("/peer")
async def peer(request: Request) -> dict[str, str]:
    assert request.client is not None
    peers.append(f"{request.client.host}:{request.client.port}")
    return {"ok": "yes"}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(50):
            yield f"chunk-{i:03d};".encode() * 100

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(app) as base:
        yield base


async def _read(transport: Http1Transport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return httpx.Response(response.status_code, headers=response.headers, content=body)


async def test_keep_alive_reuses_one_connection(url: str) -> None:
    transport = Http1Transport()
    peers.clear()
    for _ in range(5):
        response = await _read(transport, httpx.Request("GET", f"{url}/peer"))
        assert response.json() == {"ok": "yes"}
    assert len(set(peers)) == 1
    await transport.aclose()


async def test_bodies_known_length_and_chunked(url: str) -> None:
    transport = Http1Transport()
    fixed = await _read(transport, httpx.Request("POST", f"{url}/echo", content=b"x" * 70_000))
    assert fixed.json()["length"] == 70_000

    async def parts() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b""
        yield b"world" * 10_000

    chunked = await _read(transport, httpx.Request("POST", f"{url}/echo", content=parts()))
    assert chunked.json()["length"] == 6 + 50_000
    assert chunked.json()["head"] == "hello worldworld"
    await transport.aclose()


async def test_a_streamed_answer_arrives_whole(url: str) -> None:
    transport = Http1Transport()
    response = await _read(transport, httpx.Request("GET", f"{url}/stream"))
    expected = b"".join(f"chunk-{i:03d};".encode() * 100 for i in range(50))
    assert response.content == expected
    await transport.aclose()


async def test_a_pooled_connection_the_server_closed_is_not_reused() -> None:
    port = free_port()
    transport = Http1Transport()
    target = f"http://127.0.0.1:{port}"
    with serving(app, port):
        assert (await _read(transport, httpx.Request("GET", f"{target}/peer"))).status_code == 200
    # The server went away and came back: the pooled connection is dead.
    with serving(app, port):
        await asyncio.sleep(0.05)
        again = await _read(transport, httpx.Request("GET", f"{target}/peer"))
        assert again.status_code == 200
    await transport.aclose()


async def test_connect_errors_are_httpx_errors() -> None:
    transport = Http1Transport(connect_timeout_s=0.5)
    with pytest.raises(httpx.ConnectError):
        await transport.handle_async_request(
            httpx.Request("GET", f"http://127.0.0.1:{free_port()}/")
        )


async def test_head_answers_have_no_body(url: str) -> None:
    transport = Http1Transport()
    response = await _read(transport, httpx.Request("HEAD", f"{url}/peer"))
    assert response.status_code in (200, 405)
    assert response.content == b""
    follow = await _read(transport, httpx.Request("GET", f"{url}/peer"))
    assert follow.status_code == 200
    await transport.aclose()


async def test_a_declared_length_never_reaches_the_server_without_its_body(url: str) -> None:
    """Request smuggling: a GET that claims a body must not leave the connection desynced."""
    transport = Http1Transport()
    claims = httpx.Request("GET", f"{url}/peer", headers={"content-length": "40"})
    assert (await _read(transport, claims)).status_code == 200
    follow = await _read(transport, httpx.Request("POST", f"{url}/echo", content=b"abc"))
    assert follow.status_code == 200
    assert follow.json()["length"] == 3
    await transport.aclose()


async def test_an_expect_header_is_not_forwarded(url: str) -> None:
    """The transport frames bodies itself, so it never asks the server for a 100 first."""
    transport = Http1Transport()
    request = httpx.Request(
        "POST", f"{url}/echo", content=b"x" * 10, headers={"expect": "100-continue"}
    )
    response = await _read(transport, request)
    assert response.status_code == 200
    assert response.json()["length"] == 10
    await transport.aclose()


async def test_control_characters_in_headers_are_refused(url: str) -> None:
    transport = Http1Transport()
    bad = httpx.Request("GET", f"{url}/peer", headers={"x-a": "1\r\nx-injected: yes"})
    with pytest.raises(httpx.LocalProtocolError):
        await transport.handle_async_request(bad)
    await transport.aclose()


async def test_a_100_continue_before_the_answer_is_not_the_answer() -> None:
    """A server that sends an interim 100 first (raw bytes on a socket: a protocol test)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\nx-final: yes\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Http1Transport()
    response = await _read(transport, httpx.Request("GET", f"http://127.0.0.1:{port}/"))
    assert response.status_code == 201
    assert response.headers["x-final"] == "yes"
    assert response.content == b"ok"
    await transport.aclose()
    server.close()


@pytest.mark.parametrize(
    "flood",
    [
        b"x-big: " + b"a" * 200_000 + b"\r\n",  # one endless header value
        b"".join(b"x-h%d: v\r\n" % i for i in range(500)),  # too many headers
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" * 5_000,  # interim answers for ever
    ],
)
async def test_a_server_that_floods_the_response_head_is_cut_off(flood: bytes) -> None:
    """A hostile upstream (an agent) must not make us buffer its head without bound."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if flood.startswith(b"HTTP/"):
            writer.write(flood)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\n" + flood)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            await asyncio.sleep(1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Http1Transport()
    with pytest.raises(httpx.RemoteProtocolError):
        await _read(transport, httpx.Request("GET", f"http://127.0.0.1:{port}/"))
    await transport.aclose()
    server.close()
