"""The one rule for request bodies: 413 past the cap, 400 when the client abandons its body.

`BodyLimit` sits in every service's middleware stack (and in front of the gateway's proxy), so
no route, dependency or proxy counts bytes itself. A declared `Content-Length` over the cap is
refused before anything else runs; a body of unknown length is counted as it is read, and
reading past the cap raises from `receive`. Once a body has failed either way, whatever the app
makes of the failure (an exception, FastAPI's "error parsing the body", a proxy's 502) is
replaced by the one answer, and the failure is never logged as a server error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agora_common.errors import (
    AgoraError,
    BodyAborted,
    PayloadTooLarge,
    ValidationFailed,
    error_response,
    json_path,
)

M = TypeVar("M", bound=BaseModel)

# Where a service sets no cap of its own: a bound on memory, not an API limit.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request bodies are limited to {max_bytes} bytes")


class BodyLimit:
    """Pure-ASGI middleware enforcing the body rule on every HTTP request."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and not (value.isdigit() and int(value) <= self.max_bytes):
                await error_response(too_large(self.max_bytes))(scope, receive, send)
                return
        guard = _Guard(self.max_bytes, scope, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if guard.failure is None:
                raise
            # The app gave up on a body that failed: the answer below is the request's.
        if guard.failure is not None and not guard.started:
            await guard.answer(guard.failure)


class _Guard:
    """One request's view of the body: counted, and remembered if it failed."""

    __slots__ = (
        "complete",
        "failure",
        "max_bytes",
        "read",
        "replaced",
        "scope",
        "seen",
        "started",
        "up",
    )

    def __init__(self, max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
        self.max_bytes = max_bytes
        self.scope = scope
        self.read = receive
        self.up = send
        self.seen = 0
        self.complete = False
        self.started = False
        self.replaced = False
        self.failure: AgoraError | None = None

    async def receive(self) -> Message:
        message = await self.read()
        kind = message["type"]
        if kind == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.max_bytes:
                self.failure = too_large(self.max_bytes)
                raise self.failure
            if not message.get("more_body", False):
                self.complete = True
        elif kind == "http.disconnect" and not self.complete and self.failure is None:
            self.failure = BodyAborted()  # the app sees the disconnect and gives up
        return message

    async def send(self, message: Message) -> None:
        if self.replaced:
            return
        if self.failure is not None and not self.started:
            await self.answer(self.failure)  # the app's own answer to a failed body is not sent
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.up(message)

    async def answer(self, error: AgoraError) -> None:
        self.started = self.replaced = True
        await error_response(error)(self.scope, self.read, self.up)


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency reading the body as `model`, for routes whose callers are checked first.

    FastAPI reads a body parameter before it solves any dependency; a route that must refuse
    an unknown caller before reading anything takes its body from this dependency instead,
    declared after the caller's. Errors are 422 with paths under `$.body`, as FastAPI words them.
    """

    async def dependency(request: Request) -> M:
        media = request.headers.get("content-type", "application/json")
        media = media.partition(";")[0].strip().lower()
        if media != "application/json" and not (
            media.startswith("application/") and media.endswith("+json")
        ):
            raise ValidationFailed(
                details=[{"path": "$.body", "message": "Send the body as JSON (application/json)"}]
            )
        raw = await request.body()
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise ValidationFailed(
                details=[
                    {"path": json_path(("body", *err["loc"])), "message": err["msg"]}
                    for err in exc.errors(include_url=False, include_input=False)
                ]
            ) from None

    return dependency
