"""A service's hottest routes, served straight from ASGI beside its FastAPI app.

FastAPI's middleware stack, router and dependency solver cost a service several hundred
microseconds of CPU per request (docs/benchmarks.md). For the one or two routes that every
user request crosses, `HotRoutes` calls a plain handler instead: it parses and checks the
request itself, with the same dependency functions the FastAPI routes use, and answers in the
same envelope. Every other route, the lifespan, and the OpenAPI document stay FastAPI's; the hot
routes stay declared there too, so the document describes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from agora_common.errors import (
    GOOGLE_OUTAGES,
    AgoraError,
    PayloadTooLarge,
    ValidationFailed,
    error_response,
    json_path,
    storage_outage,
)
from agora_common.middleware import RequestContextMiddleware

M = TypeVar("M", bound=BaseModel)
_JSON = (b"content-type", b"application/json")


@dataclass(slots=True)
class HotAnswer:
    """A JSON answer: its encoded body, status and any extra headers."""

    body: bytes
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[HotAnswer]]


class HotRoutes:
    """What uvicorn serves: `(method, path)` pairs in `routes` to their handlers, the rest to
    `app`. The handlers keep the trace, access log and 500 envelope every service has."""

    def __init__(
        self, app: FastAPI, routes: Mapping[tuple[str, str], Handler], *, access_log: bool
    ) -> None:
        self.fastapi = app
        self._routes = dict(routes)
        self._served = RequestContextMiddleware(self._serve, access_log=access_log)

    @property
    def state(self) -> Any:
        return self.fastapi.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) in self._routes:
            await self._served(scope, receive, send)
        else:
            await self.fastapi(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.fastapi  # what FastAPI's dependencies read settings and state from
        handler = self._routes[(scope["method"], scope["path"])]
        try:
            answer = await handler(Request(scope, receive))
        except AgoraError as error:
            await error_response(error)(scope, receive, send)
            return
        except GOOGLE_OUTAGES:
            await error_response(storage_outage())(scope, receive, send)
            return
        headers = [_JSON, (b"content-length", b"%d" % len(answer.body)), *answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


async def json_body(request: Request, model: type[M], *, max_bytes: int) -> M:
    """The request body as `model`: 413 past `max_bytes`, 422 with JSON paths otherwise, the way
    FastAPI answers for a body parameter (paths under `$.body`)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ValidationFailed(
            details=[{"path": "$.body", "message": "Send the body as JSON (application/json)"}]
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    try:
        return model.model_validate_json(b"".join(chunks))
    except ValidationError as exc:
        raise ValidationFailed(
            details=[
                {"path": json_path(("body", *err["loc"])), "message": err["msg"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
        ) from None


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body exceeds {max_bytes} bytes")


def json_answer(model: BaseModel, *, headers: list[tuple[bytes, bytes]] | None = None) -> HotAnswer:
    return HotAnswer(model.__pydantic_serializer__.to_json(model), headers=headers or [])
