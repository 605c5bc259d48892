"""Calls to agents that are MCP servers (`protocol: "mcp"`): one tools/call each, through the
guarded client, bounded by the agent's timeout and the executor's answer size cap."""

from __future__ import annotations

import json
from typing import Any

from mcp_types import CallToolResult, TextContent

from agora_common.mcp_remote import McpCallFailed, McpRemote
from agora_executor.agent_client import (
    MAX_ERROR_MESSAGE,
    AgentAnswer,
    AgentBadAnswer,
    AgentTimeout,
    AgentUnavailable,
)

ERRORS = {"timeout": AgentTimeout, "unavailable": AgentUnavailable, "bad_answer": AgentBadAnswer}


class McpAgents:
    def __init__(self, remote: McpRemote, *, max_response_bytes: int) -> None:
        self._remote = remote
        self._max_bytes = max_response_bytes

    async def call(
        self, url: str, tool: str, payload: dict[str, Any], *, timeout_s: float
    ) -> AgentAnswer:
        """The tool's answer; transport trouble is 503/504/502 as for any agent."""
        try:
            result = await self._remote.call_tool(
                url, tool, payload, timeout_s=timeout_s, max_bytes=self._max_bytes
            )
        except McpCallFailed as exc:
            raise ERRORS[exc.kind](exc.message) from None
        return answer_of(result)


def answer_of(result: CallToolResult) -> AgentAnswer:
    """The structured content when the tool gave one, else its text (JSON when it parses)."""
    size = len(result.model_dump_json(by_alias=True).encode())
    texts = [item.text for item in result.content if isinstance(item, TextContent)]
    if result.is_error:
        message = " ".join(texts).strip()
        printable = message if message.isprintable() else ""
        return AgentAnswer(
            ok=False,
            error_code="TOOL_ERROR",
            error_message=(printable or "The tool refused the call")[:MAX_ERROR_MESSAGE],
            response_bytes=size,
        )
    if result.structured_content is not None:
        return AgentAnswer(ok=True, result=result.structured_content, response_bytes=size)
    if len(texts) == 1 and len(result.content) == 1:
        try:
            return AgentAnswer(ok=True, result=json.loads(texts[0]), response_bytes=size)
        except (ValueError, RecursionError):
            return AgentAnswer(ok=True, result=texts[0], response_bytes=size)
    content = [item.model_dump(mode="json", by_alias=True) for item in result.content]
    return AgentAnswer(ok=True, result={"content": content}, response_bytes=size)
