"""The error envelope of every non-2xx answer, the SDK's own refusals and a tool's ToolError."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("agora_agent_sdk")

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_MESSAGE_CHARS = 1000


class ToolError(Exception):
    """Raised by a tool to refuse a call with its own code; answered 422 with code and message."""

    def __init__(self, code: str, message: str) -> None:
        if not _CODE.fullmatch(code):
            raise ValueError("code must be 1-64 uppercase letters, digits or _, e.g. BAD_DATES")
        self.code = code
        self.message = message[:MAX_MESSAGE_CHARS]
        super().__init__(self.message)


class AgentError(Exception):
    """Base of the SDK's own refusals: each subclass is one status and one default code."""

    status_code = 500
    code = "INTERNAL"
    message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.details = list(details) if details else None
        self.headers = dict(headers) if headers else None
        super().__init__(self.message)


class InvalidRequest(AgentError):
    status_code, code, message = 400, "INVALID_REQUEST", "The request body is not a valid call"


class InvalidPayload(AgentError):
    status_code, code, message = 400, "INVALID_PAYLOAD", "The payload does not fit the tool"


class Unauthenticated(AgentError):
    status_code, code, message = 401, "UNAUTHENTICATED", "The call is not signed by the platform"


class UnknownTool(AgentError):
    status_code, code, message = 404, "UNKNOWN_TOOL", "This agent has no tool of that name"


class PayloadTooLarge(AgentError):
    status_code, code, message = 413, "PAYLOAD_TOO_LARGE", "The request body is too large"


class ToolRefused(AgentError):
    status_code, code, message = 422, "TOOL_ERROR", "The tool refused the call"


class ToolFailed(AgentError):
    status_code, code, message = 500, "TOOL_FAILED", "The tool failed"


class NotConfigured(AgentError):
    status_code, code, message = (
        503,
        "NOT_CONFIGURED",
        "The agent has no hash id and secret configured, so it accepts no calls",
    )


class Overloaded(AgentError):
    status_code, code, message = 503, "OVERLOADED", "Too many calls in flight; retry shortly"


def error_body(
    code: str, message: str, details: Sequence[Mapping[str, str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = list(details)
    return {"status": "error", "error": error}


def error_response(exc: AgentError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=exc.status_code,
        headers=exc.headers,
    )


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _agent_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentError)
    return error_response(exc)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response(InvalidRequest())


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc)
    return error_response(AgentError())


def add_exception_handlers(app: FastAPI) -> None:
    """One envelope for every refusal, from a route or from the framework."""
    app.add_exception_handler(AgentError, _agent_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
