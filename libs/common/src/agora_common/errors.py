"""One error hierarchy and one envelope for every non-2xx answer of every service."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.api_core import exceptions as google_exceptions
from starlette.exceptions import HTTPException as StarletteHTTPException

from agora_common.tracing import current_trace_id


class AgoraError(Exception):
    """Base of every error a service answers with; routes raise these, never bare HTTPException."""

    status_code = 500
    code = "INTERNAL"
    message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.details = list(details) if details else None
        self.headers = dict(headers) if headers else None
        super().__init__(self.message)


class BadRequest(AgoraError):
    status_code, code, message = 400, "BAD_REQUEST", "Bad request"


class BodyAborted(BadRequest):
    code, message = "BODY_ABORTED", "The request body ended before its declared end"


class Unauthenticated(AgoraError):
    status_code, code, message = 401, "UNAUTHENTICATED", "Authentication required"


class Forbidden(AgoraError):
    status_code, code, message = 403, "FORBIDDEN", "Not allowed"


class NotFound(AgoraError):
    status_code, code, message = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(AgoraError):
    status_code, code, message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(AgoraError):
    status_code, code, message = 409, "CONFLICT", "Conflict"


class PayloadTooLarge(AgoraError):
    status_code, code, message = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class UriTooLong(AgoraError):
    status_code, code, message = 414, "URI_TOO_LONG", "Request URI too long"


class ValidationFailed(AgoraError):
    status_code, code, message = 422, "VALIDATION_FAILED", "Request validation failed"


class RateLimited(AgoraError):
    status_code, code, message = 429, "RATE_LIMITED", "Too many requests"


class HeadersTooLarge(AgoraError):
    status_code, code, message = 431, "HEADERS_TOO_LARGE", "Request headers too large"


class BadGateway(AgoraError):
    status_code, code, message = 502, "BAD_GATEWAY", "Upstream answered badly"


class ServiceUnavailable(AgoraError):
    status_code, code, message = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


class GatewayTimeout(AgoraError):
    status_code, code, message = 504, "GATEWAY_TIMEOUT", "Upstream timed out"


_STATUS_ERRORS: dict[int, type[AgoraError]] = {
    cls.status_code: cls
    for cls in (
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UriTooLong,
        ValidationFailed,
        RateLimited,
        HeadersTooLarge,
        BadGateway,
        ServiceUnavailable,
        GatewayTimeout,
    )
}


def error_body(
    code: str, message: str, details: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The envelope: {"error": {code, message, trace_id, timestamp[, details]}}."""
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "trace_id": current_trace_id(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if details:
        body["details"] = list(details)
    return {"error": body}


def error_response(exc: AgoraError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def error_for_status(status_code: int) -> AgoraError:
    """The generic error for a bare status (Starlette's own 404/405, or an upstream status)."""
    cls = _STATUS_ERRORS.get(status_code)
    if cls is not None:
        return cls()
    if 400 <= status_code < 500:
        return AgoraError("Request failed", code="REQUEST_FAILED")
    return AgoraError()


def relayed(status_code: int, content: bytes) -> AgoraError:
    """A peer service's error answer, passed on as it came: status, code, message, details.

    For routes whose answer is a peer's decision (the tool service approving through vetting).
    An answer that is not the envelope becomes the generic error of its status.
    """
    try:
        error = json.loads(content)["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details")
    except (ValueError, KeyError, TypeError):
        return error_for_status(status_code)
    relay = AgoraError(message, code=code, details=details if isinstance(details, list) else None)
    relay.status_code = status_code if 400 <= status_code < 600 else 502
    return relay


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    """Field paths and messages only: the offending input is never echoed back."""
    return [
        {"path": json_path(err.get("loc", ())), "message": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]


def json_path(loc: Sequence[Any]) -> str:
    """`$.events[2].duration_ms` from a pydantic error location."""
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


async def _agora_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgoraError)
    return error_response(exc)


async def _http_exception_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = error_for_status(exc.status_code)
    if exc.headers:
        error.headers = dict(exc.headers)
    return error_response(error)


async def _validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(ValidationFailed(details=validation_details(exc)))


# A Google API (Firestore, ...) that is down or too slow is a 503, not a 500.
GOOGLE_OUTAGES: tuple[type[Exception], ...] = (
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.RetryError,
)


def storage_outage() -> ServiceUnavailable:
    return ServiceUnavailable("A storage dependency is unavailable")


async def _google_outage_handler(_: Request, exc: Exception) -> JSONResponse:
    return error_response(storage_outage())


def add_exception_handlers(app: FastAPI) -> None:
    """Register the envelope for domain errors, Starlette's 404/405 and 422 validation errors.

    Unhandled exceptions are turned into a 500 envelope by RequestContextMiddleware, which also
    logs them, so no traceback reaches the client.
    """
    app.add_exception_handler(AgoraError, _agora_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    for outage in GOOGLE_OUTAGES:
        app.add_exception_handler(outage, _google_outage_handler)
