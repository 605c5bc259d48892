"""MCP tool names for catalog tools, and back (pure).

A catalog tool is `<agent-slug>.<tool>` over MCP, where the slug is the agent's name made safe
(lower-case letters, digits and `-`), then `_`, then the agent's id:
`quantflow_Xk3vQ9...black_scholes`.
The name is deterministic, unique (the agent id and the tool's name are) and reversible without
any lookup: the slug holds no `_`, so the first `_` ends it, and neither the id nor the tool's
name holds a `.`. The slug only helps a person read the name; the id decides which agent runs.
MCP's rules: letters, digits, `_`, `-`, `.`, at most 128 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NAME = 128
MAX_SLUG = 32
FALLBACK_SLUG = "agent"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NAME = re.compile(r"([a-z0-9-]*)_([A-Za-z0-9_-]{1,64})\.([A-Za-z][A-Za-z0-9_-]{0,63})")


@dataclass(frozen=True)
class ToolRef:
    """Which tool an MCP name calls: the executor's `agent_id` and `tool_name`."""

    agent_id: str
    tool_name: str


def agent_slug(agent_name: str) -> str:
    """The agent's name in lower-case ASCII letters and digits, words joined by `-`."""
    ascii_name = unicodedata.normalize("NFKD", agent_name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-") or FALLBACK_SLUG


def mcp_name(agent_name: str, agent_id: str, tool_name: str) -> str | None:
    """The tool's MCP name; the slug is shortened to fit 128 characters (None: it cannot fit)."""
    room = MAX_NAME - len(agent_id) - len(tool_name) - 2
    if room < 0:
        return None
    slug = agent_slug(agent_name)[:room].rstrip("-")
    name = f"{slug}_{agent_id}.{tool_name}"
    return name if parse_mcp_name(name) == ToolRef(agent_id, tool_name) else None


def parse_mcp_name(name: str) -> ToolRef | None:
    """The tool an MCP name calls, or None when it is not one of ours."""
    if len(name) > MAX_NAME:
        return None
    found = _NAME.fullmatch(name)
    if found is None:
        return None
    return ToolRef(agent_id=found[2], tool_name=found[3])
