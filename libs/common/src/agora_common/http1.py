"""A lean HTTP/1.1 keep-alive transport for httpx, on asyncio protocols and httptools' parser.

Service-to-service calls on the hot path (the gateway's proxy) spend most of their client CPU in
the connection pool and request machinery of general-purpose clients (docs/benchmarks.md). This
transport does only what those calls need: HTTP/1.1 with keep-alive, optional TLS, streamed
bodies both ways, no redirects, no cookies, no decompression. It plugs in as an httpx transport,
so callers keep the httpx API.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httptools
import httpx

_CHUNK_HIGH_WATER = 16
# A response head (status line, headers and any 1xx answers before it) may be this large at most.
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 128
# Framing and connection headers are always the transport's own.
_NOT_FORWARDED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"content-length",
        b"host",
        b"te",
        b"expect",
        b"upgrade",
    }
)
_BODILESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
# Servers close idle keep-alive connections (uvicorn after 5 s); never reuse one near that age.
_MAX_IDLE_S = 4.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request in flight."""

    def __init__(
        self, pool_key: tuple[str, str, int], on_lost: Callable[[_Connection], None]
    ) -> None:
        self.pool_key = pool_key
        self._on_lost = on_lost
        self.idle_since = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0
        self._head: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] | None = None
        self._chunks: deque[bytes] = deque()
        self._complete = False
        self._waiter: asyncio.Future[None] | None = None
        self._error: Exception | None = None
        self._interim = False
        self.reusable = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._on_lost(self)
        if not self._complete:
            self._fail(httpx.RemoteProtocolError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        if self._head is not None and not self._head.done():
            # Until the head is complete the parser buffers it, so bound it here: a server that
            # streams headers (or 1xx answers) for ever must not exhaust our memory.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(httpx.RemoteProtocolError("response head too large"))
                self.close()
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed response: {exc}"))
            self.close()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self._headers) >= MAX_HEADERS:
            raise httpx.RemoteProtocolError("too many response headers")
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103): the real one follows
            self._interim = True
            self._headers = []
            return
        if self._head is not None and not self._head.done():
            self._head.set_result((status, self._headers))

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        if len(self._chunks) > _CHUNK_HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self._complete = True
        self.reusable = self._parser.should_keep_alive()
        self._wake()

    # the request side
    def start(self) -> asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]]:
        """Reset for a new exchange; the future resolves with the response head."""
        self._headers = []
        self._head_bytes = 0
        self._chunks.clear()
        self._complete = False
        self._error = None
        self.reusable = False
        self._head = asyncio.get_running_loop().create_future()
        return self._head

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise httpx.WriteError("connection is closed")
        self.transport.write(data)

    async def body(self) -> AsyncIterator[bytes]:
        while True:
            while self._chunks:
                chunk = self._chunks.popleft()
                if self.transport is not None and len(self._chunks) < _CHUNK_HIGH_WATER // 2:
                    self.transport.resume_reading()
                yield chunk
            if self._complete:
                return
            if self._error is not None:
                raise self._error
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter

    def finish_without_body(self) -> None:
        self._complete = True
        self.reusable = False

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
            self._head.exception()  # an abandoned exchange has no awaiter: don't log it
        self._wake()


def _checked_head(lines: list[bytes]) -> bytes:
    """The request head; refused if any name, value, target or host smuggles CR, LF or NUL.

    Every line we built ends in exactly one CRLF (the first holds two: request line and host),
    so any other CR or LF came from a value. One count over the joined head is cheap.
    """
    head = b"".join([*lines, b"\r\n"])
    expected = len(lines) + 2
    if head.count(b"\r") != expected or head.count(b"\n") != expected or b"\0" in head:
        raise httpx.LocalProtocolError("request head with a control character")
    return head


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, transport: Http1Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._connection.body():
            yield chunk
        self._done = True

    async def aclose(self) -> None:
        self._transport._release(self._connection, self._done)


class Http1Transport(httpx.AsyncBaseTransport):
    """Keep-alive pool per (scheme, host, port); LIFO reuse keeps the warmest connection busy."""

    def __init__(
        self,
        *,
        max_idle_per_host: int = 100,
        connect_timeout_s: float = 2.0,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Callable[[str, int], Awaitable[list[str]]] | None = None,
    ) -> None:
        # With `resolve` (e.g. EgressGuard.addresses), connections go only to the addresses it
        # returns, with TLS still verified for the URL's host name.
        self.resolve = resolve
        self.max_idle_per_host = max_idle_per_host
        self.connect_timeout_s = connect_timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        connection = self._take_idle(key)
        reused = connection is not None
        if connection is None:
            connection = await self._connect(key, request)
        try:
            head = await self._exchange(connection, request)
        except (httpx.RemoteProtocolError, httpx.WriteError):
            self._discard(connection)
            if not reused or request.method not in ("GET", "HEAD", "OPTIONS"):
                raise
            # A reused connection the server had just closed: retry an idempotent call once.
            connection = await self._connect(key, request)
            try:
                head = await self._exchange(connection, request)
            except BaseException:
                self._discard(connection)
                raise
        except BaseException:  # cancelled (a deadline) or failed mid-exchange: never reuse it
            self._discard(connection)
            raise
        status, headers = head
        if request.method == "HEAD":  # the parser cannot know a HEAD answer has no body
            connection.finish_without_body()
        return httpx.Response(
            status,
            headers=headers,
            stream=_ResponseStream(self, connection),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def _exchange(
        self, connection: _Connection, request: httpx.Request
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        head = connection.start()
        chunked = self._write_request(connection, request)
        if chunked is not None:
            async for chunk in chunked:
                if chunk:
                    connection.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            connection.write(b"0\r\n\r\n")
        return await head

    def _write_request(
        self, connection: _Connection, request: httpx.Request
    ) -> AsyncIterator[bytes] | None:
        """Write the head (and an in-memory body); return a stream to send chunked.

        The framing is always ours: a caller's Content-Length or Transfer-Encoding is never
        forwarded, so a body can never disagree with its declared length (request smuggling).
        """
        url = request.url
        target = url.raw_path or b"/"
        lines = [b"%b %b HTTP/1.1\r\nhost: %b\r\n" % (request.method.encode(), target, url.netloc)]
        for name, value in request.headers.raw:
            if name.lower() not in _NOT_FORWARDED:
                lines.append(b"%b: %b\r\n" % (name, value))
        stream: Any = request.stream
        if isinstance(stream, httpx.ByteStream):  # in memory (or empty): send it with its length
            body = b"".join([bytes(part) for part in stream])
            if body or request.method not in _BODILESS:
                lines.append(b"content-length: %d\r\n" % len(body))
            connection.write(_checked_head(lines) + body)
            return None
        lines.append(b"transfer-encoding: chunked\r\n")
        connection.write(_checked_head(lines))
        return stream.__aiter__()  # type: ignore[no-any-return]

    async def _connect(self, key: tuple[str, str, int], request: httpx.Request) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        timeout = request.extensions.get("timeout", {}).get("connect", self.connect_timeout_s)
        tls = self.ssl_context if scheme == "https" else None
        targets = [host] if self.resolve is None else await self.resolve(host, port)
        try:
            async with asyncio.timeout(timeout):
                for index, target in enumerate(targets):
                    try:
                        _, protocol = await loop.create_connection(
                            lambda: _Connection(key, self._forget),
                            target,
                            port,
                            ssl=tls,
                            server_hostname=host if tls else None,
                        )
                        break
                    except OSError:
                        if index == len(targets) - 1:
                            raise
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connect to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"connect to {host}:{port} failed: {exc}") from exc
        self._open.add(protocol)
        return protocol

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    def _forget(self, connection: _Connection) -> None:
        """The server closed it: it must not stay counted as open."""
        self._open.discard(connection)

    def _take_idle(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < _MAX_IDLE_S:
                return connection
            self._discard(connection)
        return None

    def _release(self, connection: _Connection, finished: bool) -> None:
        idle = self._idle.setdefault(connection.pool_key, [])
        keep = finished and connection.reusable and not connection.closed
        if keep and len(idle) < self.max_idle_per_host:
            connection.idle_since = time.monotonic()
            idle.append(connection)
            return
        self._discard(connection)

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()
