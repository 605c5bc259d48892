"""The live check of an MCP agent (`protocol: "mcp"`): its tools/list, through the egress guard,
recorded on the scan receipt and compared with the card (scanners/mcp_tools.py)."""

from __future__ import annotations

import time
from typing import Any

from agora_common.errors import AgoraError
from agora_common.mcp_remote import McpCallFailed, McpRemote, tool_record, tools_fingerprint
from agora_common.models import AgentCard
from agora_vetting.models import CheckResult
from agora_vetting.scanners.mcp_tools import card_findings, poisoning_findings

# A tool list is small: its whole session is bounded like a probe.
MAX_TOOL_LIST_BYTES = 1024 * 1024


async def listed_tools(remote: McpRemote, url: str, timeout_s: float) -> list[dict[str, Any]]:
    """The server's tools as a receipt records them (name, description, schemas, fingerprint)."""
    tools = await remote.list_tools(url, timeout_s=timeout_s, max_bytes=MAX_TOOL_LIST_BYTES)
    return [tool_record(tool) for tool in tools]


async def mcp_tools_check(
    remote: McpRemote, card: AgentCard, timeout_s: float
) -> tuple[CheckResult, list[dict[str, Any]] | None]:
    """The check, and the tools found (None when the list could not be read)."""
    started = time.perf_counter()
    try:
        records = await listed_tools(remote, str(card.deployment.url), timeout_s)
    except McpCallFailed as exc:
        return CheckResult(name="mcp_tools", status="failed", reason=exc.message), None
    except AgoraError as exc:
        finding = {"check": "mcp_tools", "message": exc.message, "severity": "high"}
        return CheckResult(name="mcp_tools", status="findings", findings=[finding]), None
    declared = [tool.model_dump(mode="json") for tool in card.tools]
    findings = card_findings(declared, records)
    for record in records:
        findings.extend(poisoning_findings(record))
    duration = round((time.perf_counter() - started) * 1000, 3)
    status = "findings" if findings else "ok"
    check = CheckResult(name="mcp_tools", status=status, findings=findings, duration_ms=duration)
    return check, records


__all__ = ["MAX_TOOL_LIST_BYTES", "listed_tools", "mcp_tools_check", "tools_fingerprint"]
