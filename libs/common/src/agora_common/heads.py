"""A cap on the request head, answered in the envelope: 414 for the target, 431 for headers,
and 400 for a body framed both by Content-Length and Transfer-Encoding (RFC 9112 §6.1).

The server parses the head before any app code runs, so this sees only heads the server
accepted; the server's own buffer bound (the gateway's `h11_max_incomplete_event_size`) stops
larger ones with its plain-text 400 (docs/api.md).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.errors import (
    AgoraError,
    BadRequest,
    HeadersTooLarge,
    UriTooLong,
    error_response,
)
from agora_common.tracing import parse_trace_headers, reset_trace, set_trace

DEFAULT_MAX_HEAD_BYTES = 16 * 1024


class HeadLimit:
    """The request target and the headers (names, values, separators) each up to `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_HEAD_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = self._refusal(scope)
            if error is not None:
                token = set_trace(parse_trace_headers(None, None))  # never a client's oversized one
                try:
                    await error_response(error)(scope, receive, send)
                finally:
                    reset_trace(token)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> AgoraError | None:
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        if len(path) + 1 + len(scope.get("query_string", b"")) > self.max_bytes:
            return UriTooLong(f"The request target is limited to {self.max_bytes} bytes")
        size = 0
        framing = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4  # ": " and CRLF
            if name in _FRAMING:
                framing |= _FRAMING[name]
        if size > self.max_bytes:
            return HeadersTooLarge(f"Request headers are limited to {self.max_bytes} bytes")
        if framing == 3:
            # Read one way here and another by a hop behind us, it smuggles a request: refused,
            # and the connection closed after the answer, as RFC 9112 asks.
            return BadRequest(
                "Send either Content-Length or Transfer-Encoding, not both",
                code="AMBIGUOUS_FRAMING",
                headers={"Connection": "close"},
            )
        return None


_FRAMING = {b"content-length": 1, b"transfer-encoding": 2}
