"""MCP `tools/call` through the executor's one execution path, answered as MCP tool results.

The call is the executor's `POST /execute` with this service's identity, passing on the user the
gateway verified (the executor honours it from the tool service: `identity_forwarders`), so the
executor's checks, logs, analytics and costs apply as to any execution. Every failure of the
call (bad arguments, an unknown or inactive tool, the tool's own error, an executor that does not
answer) is a tool result with `isError: true`, as MCP has tool errors reported.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from mcp_types import CallToolResult, TextContent

from agora_common.errors import AgoraError
from agora_common.iam.client import ServiceClient
from agora_common.identity import identity_headers
from agora_common.models import UserIdentity
from agora_tool.mcp_names import parse_mcp_name

log = logging.getLogger("agora.tool.mcp")

# At most this many of an error's `details` are put in the text a client shows.
MAX_DETAILS = 10
# The executor's id of the execution, in the result's `_meta` (its logs and costs are under it).
EXECUTION_ID = "agora/execution_id"


class ToolCalls:
    def __init__(
        self, services: ServiceClient, *, timeout_s: float, connect_timeout_s: float
    ) -> None:
        self._services = services
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s, pool=connect_timeout_s)

    async def call(
        self, user: UserIdentity, name: str, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        ref = parse_mcp_name(name)
        if ref is None:
            return tool_error(f"Unknown tool {name[:200]!r}: use a name from tools/list")
        body = {"agent_id": ref.agent_id, "tool_name": ref.tool_name, "payload": arguments or {}}
        try:
            response = await self._services.request(
                "executor",
                "POST",
                "/execute",
                json=body,
                headers=identity_headers(user),
                timeout=self._timeout,
            )
        except AgoraError as error:  # unreachable, too slow, or not configured
            log.warning("executor call failed", extra={"error": error.code})
            return tool_error(f"Tools cannot be run right now: {error.message}")
        return answer_of(response)


def answer_of(response: httpx.Response) -> CallToolResult:
    """The executor's answer as a tool result."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return tool_error(f"The executor answered {response.status_code} without a JSON body")
    if response.status_code == 200:
        return _execution(answer)
    error = answer.get("error")
    if not isinstance(error, dict):
        return tool_error(f"The executor answered {response.status_code}")
    text = f"{error.get('message', 'The call failed')} ({error.get('code', 'ERROR')})"
    details = error.get("details")
    if isinstance(details, list) and details:
        shown = [json.dumps(d, separators=(",", ":"), default=str) for d in details[:MAX_DETAILS]]
        text += "\n" + "\n".join(shown)
    if response.status_code >= 500:
        text = f"Tools cannot be run right now: {text}"
    return tool_error(text)


def _execution(execution: dict[str, Any]) -> CallToolResult:
    if execution.get("status") != "succeeded":
        failure = execution.get("error") or {}
        message = failure.get("message", "The tool failed") if isinstance(failure, dict) else None
        code = failure.get("code", "TOOL_ERROR") if isinstance(failure, dict) else "TOOL_ERROR"
        return tool_error(f"{message or 'The tool failed'} ({code})")
    result = execution.get("result")
    structured = result if isinstance(result, dict) else {"result": result}
    text = json.dumps(structured, separators=(",", ":"), ensure_ascii=False)
    meta = {EXECUTION_ID: str(execution.get("execution_id", ""))}
    return CallToolResult(
        content=[TextContent(text=text)], structured_content=structured, meta=meta
    )


def tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)
