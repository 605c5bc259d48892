"""A reference point, not a product: the least a Python proxy can do per request here.

uvloop + httptools protocols and nothing else: parse the client's request, one EVALSHA of the
gateway's own GCRA script on one pipelined Redis connection, forward over a keep-alive pool
with a fixed service token, relay the answer in one write. No token check, no routing table,
no identity or trace headers, no timeouts, no streaming, no error handling worth the name.
bench/gateway/run.py measures it beside the gateway, in the same run, to show how much of the
added latency any proxy pays on this machine (two processes sharing one core), and how much
is the gateway's own work.

    python bench/gateway/bare_proxy.py PORT UPSTREAM_URL REDIS_URL   (BARE_PROXY_AUTH: the token)
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from typing import cast
from urllib.parse import urlsplit

import hiredis
import httptools
import uvloop

from agora_gateway.ratelimit import GCRA_LUA

PREFIX = b"/api/v1/agents"
DROPPED = frozenset({b"host", b"authorization", b"connection", b"date", b"server"})


class Redis(asyncio.Protocol):
    """One pipelined connection; replies arrive in the order the commands were sent."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[object]] = deque()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self.waiting.popleft().set_result(reply)

    def call(self, *args: str | int) -> asyncio.Future[object]:
        assert self.transport is not None
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
        return future


class Upstream(asyncio.Protocol):
    """One keep-alive connection to the service, one exchange at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.alive = True
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        answer, self.answer = self.answer, None
        assert answer is not None
        answer.set_result((self.parser.get_status_code(), self.headers, b"".join(self.body)))
        self.headers, self.body = [], []


class BareProxy:
    def __init__(self, upstream: str, authorization: bytes, redis: Redis, sha: str) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authorization = authorization
        self.redis = redis
        self.sha = sha
        self.idle: list[Upstream] = []

    async def connection(self) -> Upstream:
        while self.idle:
            upstream = self.idle.pop()
            if upstream.alive:
                return upstream
        loop = asyncio.get_running_loop()
        _, upstream = await loop.create_connection(Upstream, self.host, self.port)
        return upstream

    async def handle(
        self, client: asyncio.Transport, url: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        await self.redis.call("EVALSHA", self.sha, 1, "rate_limit:bare", 1, 60_000_000)
        upstream = await self.connection()
        assert upstream.transport is not None
        kept = b"".join(k + b": " + v + b"\r\n" for k, v in headers if k not in DROPPED)
        upstream.answer = asyncio.get_running_loop().create_future()
        upstream.transport.write(
            b"GET "
            + url[len(PREFIX) :]
            + b" HTTP/1.1\r\nhost: upstream\r\nauthorization: "
            + self.authorization
            + b"\r\n"
            + kept
            + b"\r\n"
        )
        status, answer_headers, body = await upstream.answer
        self.idle.append(upstream)
        relayed = b"".join(
            k + b": " + v + b"\r\n" for k, v in answer_headers if k.lower() not in DROPPED
        )
        if not client.is_closing():
            client.write(b"HTTP/1.1 %d OK\r\n" % status + relayed + b"\r\n" + body)


class Client(asyncio.Protocol):
    def __init__(self, proxy: BareProxy) -> None:
        self.proxy = proxy
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_message_complete(self) -> None:
        headers, self.headers = self.headers, []
        asyncio.get_running_loop().create_task(self.proxy.handle(self.transport, self.url, headers))


async def main(port: int, upstream: str, redis_url: str) -> None:
    loop = asyncio.get_running_loop()
    where = urlsplit(redis_url)
    host, port_ = where.hostname or "127.0.0.1", where.port or 6379
    _, redis = await loop.create_connection(Redis, host, port_)
    sha = await redis.call("SCRIPT", "LOAD", GCRA_LUA)
    assert isinstance(sha, bytes)
    proxy = BareProxy(upstream, os.environ["BARE_PROXY_AUTH"].encode(), redis, sha.decode())
    server = await loop.create_server(lambda: Client(proxy), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
