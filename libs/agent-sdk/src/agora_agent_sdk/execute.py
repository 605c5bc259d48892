"""POST /execute, step by step: configured, signed, small enough, well-formed, then the tool."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from agora_agent_sdk.context import Context
from agora_agent_sdk.errors import (
    InvalidPayload,
    InvalidRequest,
    NotConfigured,
    Overloaded,
    PayloadTooLarge,
    ToolError,
    ToolFailed,
    ToolRefused,
    Unauthenticated,
    UnknownTool,
)
from agora_agent_sdk.protocol import ExecuteRequest, error_details, is_json_error
from agora_agent_sdk.replay import ReplayGuardFull
from agora_agent_sdk.runtime import Runtime
from agora_agent_sdk.signing import SignatureError, check_body, check_headers
from agora_agent_sdk.tools import Tool

logger = logging.getLogger("agora_agent_sdk")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge
    return bytes(body)


async def authenticated_body(request: Request, runtime: Runtime) -> bytes:
    """The body of a call signed by the platform for this agent, seen for the first time."""
    credentials = runtime.config.credentials()
    if credentials is None:
        raise NotConfigured
    hash_id, secret = credentials
    now = time.time()
    try:
        # Headers first: an unsigned caller never gets to upload a body.
        signed = check_headers(request.headers, hash_id, now=now)
        body = await read_body(request, runtime.config.max_body_bytes)
        check_body(signed, secret, hash_id, body)
        # Only after the signature holds, so forged calls cannot fill the guard.
        runtime.replay.record(signed.signature, signed.timestamp, now)
    except SignatureError as exc:
        logger.warning("refused an unauthenticated call: %s", exc.code)
        raise Unauthenticated(exc.message, code=exc.code) from None
    except ReplayGuardFull:
        logger.error("replay guard full: refusing calls until signatures go stale")
        raise Overloaded(headers={"Retry-After": "5"}) from None
    return body


def parse_call(body: bytes) -> ExecuteRequest:
    try:
        return ExecuteRequest.model_validate_json(body)
    except ValidationError as exc:
        if is_json_error(exc):
            raise InvalidRequest("The request body is not valid JSON") from None
        raise InvalidRequest(details=error_details(exc)) from None


def parse_payload(tool: Tool, payload: Any) -> BaseModel:
    try:
        return tool.input_model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidPayload(details=error_details(exc)) from None


def context_of(call: ExecuteRequest, provider_keys: frozenset[str]) -> Context:
    """The call's Context, with only the keys of providers the agent declared."""
    given = call.context.provider_keys or {}
    keys = {p: k.get_secret_value() for p, k in given.items() if p in provider_keys}
    return Context(call.context.execution_id, call.context.caller_uid, keys)


def _json_bytes(result: Any) -> bytes:
    content = {"status": "ok", "result": to_jsonable_python(result)}
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def run_tool(tool: Tool, payload: BaseModel, ctx: Context) -> bytes:
    """The tool's answer as JSON bytes; a ToolError keeps its code, anything else is TOOL_FAILED."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        return _json_bytes(await tool.run(payload, ctx))
    except ToolError as exc:
        outcome = exc.code
        raise ToolRefused(exc.message, code=exc.code) from None
    except Exception:
        outcome = "TOOL_FAILED"
        # The traceback goes to the log only; the answer carries no exception text.
        logger.exception("tool %s failed (execution %s)", tool.name, ctx.execution_id)
        raise ToolFailed from None
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "tool %s execution %s: %s in %.1f ms", tool.name, ctx.execution_id, outcome, elapsed_ms
        )


async def execute(request: Request, runtime: Runtime) -> bytes:
    body = await authenticated_body(request, runtime)
    call = parse_call(body)
    tool = runtime.tools.get(call.tool_name)
    if tool is None:
        raise UnknownTool
    payload = parse_payload(tool, call.payload)
    return await run_tool(tool, payload, context_of(call, runtime.provider_keys))
