"""What a scan checks of an MCP server's own tool list: that it is the card's, and that no tool
tries to instruct the model that reads it (tool poisoning).

A tool's description and the descriptions in its schemas reach a model verbatim, so text written
to steer that model is a finding. The rules are deliberately few and specific, each a regular
expression matched case-insensitively against every description the tool carries:

- `mcp-ignore-instructions`: asks to ignore, disregard or forget earlier instructions or rules.
- `mcp-conceal-from-user`: asks not to tell, show or mention something to the user.
- `mcp-hidden-tags`: markup that poses as a higher authority (`<IMPORTANT>`, `<system>`,
  `<instructions>`, `<secret>`, `<hidden>`).
- `mcp-reads-secrets`: asks to read, send or include files or secrets (`~/.ssh`, `id_rsa`, `.env`,
  `/etc/passwd`, credentials, private or API keys, an MCP client's config).
- `mcp-prompt-override`: names the system prompt or tells the model what it must do first.

Findings of the tool list against the card: a listed tool the card does not declare (high: it
was never vetted), a declared tool the server does not list (medium), and a tool whose
description or input schema differs from the card's (medium).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_FLAGS = re.IGNORECASE | re.DOTALL
POISONING_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "mcp-ignore-instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override)\b.{0,40}?\b(previous|prior|above|earlier|all"
            r"|other|any)\b.{0,30}?\b(instructions?|prompts?|rules?|directions?)\b",
            _FLAGS,
        ),
        "asks the model to ignore its instructions",
    ),
    (
        "mcp-conceal-from-user",
        re.compile(
            r"\b(do\s+not|don'?t|never|without)\b.{0,30}?\b(tell|telling|inform|informing"
            r"|mention|mentioning|reveal|revealing|show|showing|notify|notifying)\b.{0,30}?"
            r"\bthe\s+user\b",
            _FLAGS,
        ),
        "asks the model to keep something from the user",
    ),
    (
        "mcp-hidden-tags",
        re.compile(r"<\s*/?\s*(important|system|instructions?|secret|hidden)\b[^>]{0,80}>", _FLAGS),
        "carries markup posing as instructions",
    ),
    (
        "mcp-reads-secrets",
        re.compile(
            r"\b(read|open|cat|send|include|pass|upload|attach|provide|copy)\b.{0,80}?"
            r"(~/|\.ssh\b|id_rsa|\.env\b|/etc/passwd|credentials?|private\s+keys?|api[_\s-]?keys?"
            r"|mcp\.json|\bsecrets?\b)",
            _FLAGS,
        ),
        "asks the model to read or send files or secrets",
    ),
    (
        "mcp-prompt-override",
        re.compile(
            r"\b(system\s+prompt|before\s+using\s+this\s+tool,?\s+you\s+must|you\s+must\s+"
            r"(first|always))\b",
            _FLAGS,
        ),
        "tells the model what it must do",
    ),
)


def _descriptions(value: Any) -> Iterator[str]:
    """Every `description` and `title` string in a JSON Schema, however deep."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("description", "title") and isinstance(item, str):
                yield item
            else:
                yield from _descriptions(item)
    elif isinstance(value, list):
        for item in value:
            yield from _descriptions(item)


def poisoning_findings(tool: dict[str, Any]) -> list[dict[str, Any]]:
    """One finding per rule that a listed tool's texts match."""
    texts = [str(tool.get("description") or "")]
    for field in ("input_schema", "output_schema"):
        texts.extend(_descriptions(tool.get(field)))
    findings = []
    for rule_id, pattern, message in POISONING_RULES:
        if any(pattern.search(text) for text in texts):
            findings.append(
                {
                    "check": "mcp_tools",
                    "rule_id": rule_id,
                    "tool": tool.get("name"),
                    "message": f"the tool's description {message}",
                    "severity": "high",
                }
            )
    return findings


def _same_schema(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def card_findings(
    declared: list[dict[str, Any]], listed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The server's tool list against the card's tools."""
    cards = {str(t.get("name")): t for t in declared}
    served = {str(t.get("name")): t for t in listed}
    findings: list[dict[str, Any]] = []
    for name in sorted(set(served) - set(cards)):
        findings.append(
            {
                "check": "mcp_tools",
                "rule_id": "mcp-undeclared-tool",
                "tool": name,
                "message": "the server lists a tool the card does not declare",
                "severity": "high",
            }
        )
    for name in sorted(set(cards) - set(served)):
        findings.append(
            {
                "check": "mcp_tools",
                "rule_id": "mcp-missing-tool",
                "tool": name,
                "message": "the card declares a tool the server does not list",
                "severity": "medium",
            }
        )
    for name in sorted(set(cards) & set(served)):
        card, tool = cards[name], served[name]
        differs = [
            field
            for field, mine, theirs in (
                ("description", card.get("description"), tool.get("description")),
                ("input_schema", card.get("input_schema"), tool.get("input_schema")),
            )
            if not _same_schema(mine, theirs)
        ]
        if differs:
            findings.append(
                {
                    "check": "mcp_tools",
                    "rule_id": "mcp-tool-differs",
                    "tool": name,
                    "fields": differs,
                    "message": "the server's tool differs from the card's",
                    "severity": "medium",
                }
            )
    return findings
