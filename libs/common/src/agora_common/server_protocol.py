"""uvicorn's httptools protocol, writing each response's head and first body chunk together.

uvicorn writes the status line and headers as soon as the app sends `http.response.start`, then
the body on `http.response.body`: two socket writes for a small JSON answer. On loopback and in
Cloud Run's sandbox each write is a syscall in which the kernel also does the receiver's TCP
work, so the pair costs a measurable share of a hot request (docs/benchmarks.md). This protocol
holds the head until the first body chunk (or the connection's close) and writes them in one
call. Nothing else changes: interim `100 Continue` answers pass straight through, and a
streamed response's head leaves with its first chunk, which ASGI apps send right after the
start message; a head with no body (HEAD) leaves when the response completes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _HeadHeld:
    """The connection's transport as one response cycle sees it: the head waits for the body."""

    __slots__ = ("_head", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data[:9] == b"HTTP/1.1 " and data[9:10] != b"1":  # a final head, not 100 Continue
            self._head = data
        else:
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """Pass as uvicorn's `http` protocol class."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is None or isinstance(cycle.transport, _HeadHeld):
            return
        held = _HeadHeld(self.transport)
        cycle.transport = held  # type: ignore[assignment]
        completed = cycle.on_response

        def on_response() -> None:
            held.flush()  # a HEAD answer has no body to carry its head
            completed()

        cycle.on_response = on_response
