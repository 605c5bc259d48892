"""Refuse a request whose declared Content-Length is over the cap, before reading any of it.

Bodies without a Content-Length (chunked) are counted by Starlette's route-level limit as they
arrive. That limit also sees a declared length, but it answers with plain text; this middleware
answers first, with the error envelope.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.errors import PayloadTooLarge, error_response


class DeclaredLengthLimit:
    """413 PAYLOAD_TOO_LARGE when Content-Length exceeds `max_bytes` (or is not a number)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and not _within(value, self.max_bytes):
                    error = PayloadTooLarge(f"Request bodies are limited to {self.max_bytes} bytes")
                    await error_response(error)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _within(value: bytes, max_bytes: int) -> bool:
    return value.isdigit() and int(value) <= max_bytes
