"""The outermost ASGI middleware: trace context, one access-log line, and a 500 envelope."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agora_common.errors import error_body
from agora_common.tracing import parse_trace_headers, reset_trace, set_trace

log = logging.getLogger("agora.request")

_QUIET_PATHS = frozenset({"/healthz", "/readyz"})


class RequestContextMiddleware:
    """Sets the trace for the request, logs it, and turns any unhandled exception into a 500."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        # Off where the platform already logs every request (Cloud Run's request log);
        # failures (status >= 500) are logged either way.
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent = cloud_trace = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                traceparent = value.decode("latin-1")
            elif name == b"x-cloud-trace-context":
                cloud_trace = value.decode("latin-1")
        token = set_trace(parse_trace_headers(traceparent, cloud_trace))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not response_started:
                await _send_internal_error(send)
            status = 500
        finally:
            path = scope.get("path", "")
            if status >= 500 or (self.access_log and (path not in _QUIET_PATHS or status >= 400)):
                log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status,
                    extra={
                        "httpRequest": {
                            "requestMethod": scope.get("method"),
                            "requestUrl": path,
                            "status": status,
                            "latency": f"{time.perf_counter() - started:.6f}s",
                        }
                    },
                )
            reset_trace(token)


async def _send_internal_error(send: Send) -> None:
    body = json.dumps(error_body("INTERNAL", "Internal error")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
