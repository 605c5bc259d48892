"""One pipelined Redis connection for the rate limiter's single command per request.

redis-py's asyncio pool checks, locks, times and instruments every command (a task per send
timeout, a health check, a lock on get and release, connection-count metrics): about 90 µs of
gateway CPU per request on this machine class, a sixth of the gateway's whole cost
(docs/benchmarks.md). Redis answers the commands of one connection in order, so one connection
can carry every concurrent request's command: each is one write, and its answer is the next
reply parsed (by hiredis, as in redis-py) off the connection. A command that takes longer than
`timeout_s` raises `TimeoutError`; a lost connection fails every command waiting on it with
`ConnectionError`, and the next command connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from typing import Any, cast

import hiredis
from redis.asyncio.connection import SSLConnection, parse_url
from redis.exceptions import NoScriptError, ResponseError

Arg = str | bytes | int | float


def pack(args: tuple[Arg, ...]) -> bytes:
    """A command in RESP (an array of bulk strings), packed by hiredis as redis-py packs it."""
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]  # stub wants a 1-tuple
    return packed


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.reader = hiredis.Reader()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if not self.waiting:  # a reply nobody asked for: the stream is out of step
                self.close()
                return
            waiter = self.waiting.popleft()
            if not waiter.done():  # its caller may have timed out meanwhile
                if isinstance(reply, hiredis.ReplyError):
                    waiter.set_exception(_error(str(reply)))
                else:
                    waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        error = ConnectionError("The connection to Redis was lost")
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)

    def send(self, command: bytes) -> asyncio.Future[Any]:
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        self.transport.write(command)
        return waiter

    def close(self) -> None:
        """Closed at once for callers: waiting commands fail now, the next one reconnects."""
        if self.transport is not None:
            self.transport.close()
        self.connection_lost(None)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("Redis did not answer in time"))


def _error(message: str) -> ResponseError:
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return ResponseError(message)


class RedisPipe:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        password: str | None = None,
        username: str | None = None,
        db: int = 0,
        tls: bool = False,
        connect_timeout_s: float = 2.0,
        timeout_s: float = 2.0,
    ) -> None:
        self.host, self.port = host, port
        self._hello: list[tuple[Arg, ...]] = []
        if password is not None:
            self._hello.append(("AUTH", username, password) if username else ("AUTH", password))
        if db:
            self._hello.append(("SELECT", db))
        self._ssl = ssl.create_default_context() if tls else None
        self.connect_timeout_s = connect_timeout_s
        self.timeout_s = timeout_s
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisPipe:
        """redis://[[user]:password@]host[:port][/db], or rediss:// for TLS, read as redis-py
        reads them (the URL the services' redis-py clients use too)."""
        parsed = parse_url(url)
        return cls(
            str(parsed.get("host", "localhost")),
            int(parsed.get("port", 6379)),
            password=parsed.get("password"),
            username=parsed.get("username"),
            db=int(parsed.get("db", 0)),
            tls=parsed.get("connection_class") is SSLConnection,
            **kwargs,
        )

    async def call(self, *args: Arg) -> Any:
        """One command's reply; Redis errors as redis-py's exceptions."""
        connection = self._connection
        if connection is None or connection.lost:
            async with asyncio.timeout(self.timeout_s):
                connection = await self._connect()
                return await connection.send(pack(args))
        # On the open connection (every request but the first), a timer on the reply's future
        # instead of `asyncio.timeout`: half the CPU. A reply that comes after it is dropped.
        waiter = connection.send(pack(args))
        timer = waiter.get_loop().call_later(self.timeout_s, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def aclose(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(BaseException):
                await self._connecting
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _connect(self) -> _Connection:
        """One connection attempt at a time, shared by every command waiting for it."""
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._open())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.connect_timeout_s):
            _, connection = await loop.create_connection(
                _Connection,
                self.host,
                self.port,
                ssl=self._ssl,
                server_hostname=self.host if self._ssl else None,
            )
            try:
                for command in self._hello:  # ahead of any other command on this connection
                    await connection.send(pack(command))
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        return connection
