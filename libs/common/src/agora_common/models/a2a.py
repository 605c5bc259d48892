"""Import an A2A AgentCard (camelCase JSON) as an Agora agent card."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agora_common.models.card import MAX_TAGS, AgentCard

# A2A skills carry no input schema: their input is a free-form message, so any object is accepted.
FREE_FORM_INPUT: dict[str, Any] = {"type": "object"}
# A2A fields without an Agora counterpart that are kept, under metadata["a2a"].
_KEPT_FIELDS = ("protocolVersion", "defaultInputModes", "defaultOutputModes", "preferredTransport")
_NOT_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")


def card_from_a2a(a2a: Mapping[str, Any], *, image: str | None = None) -> AgentCard:
    """Map an A2A card onto ours; raises pydantic.ValidationError when the result is not valid.

    `url` becomes deployment.url, `skills` become tools (id -> name), `provider`,
    `capabilities` and `documentationUrl` map one to one; skill tags are folded into the card's
    tags when they fit its rules.
    """
    skills = a2a.get("skills") or []
    tools = [
        {
            "name": _tool_name(str(skill.get("id") or skill.get("name") or "")),
            "description": skill.get("description") or skill.get("name") or "",
            "input_schema": dict(FREE_FORM_INPUT),
        }
        for skill in skills
    ]
    card: dict[str, Any] = {
        "name": a2a.get("name"),
        "description": a2a.get("description"),
        "version": a2a.get("version"),
        "tools": tools,
        "deployment": {k: v for k, v in (("url", _url(a2a)), ("image", image)) if v},
        "tags": _tags(skills),
    }
    provider = a2a.get("provider")
    if isinstance(provider, Mapping):
        card["provider"] = {k: provider[k] for k in ("organization", "url") if k in provider}
    capabilities = a2a.get("capabilities")
    if isinstance(capabilities, Mapping):
        card["capabilities"] = {
            "streaming": bool(capabilities.get("streaming", False)),
            "push_notifications": bool(capabilities.get("pushNotifications", False)),
            "state_transition_history": bool(capabilities.get("stateTransitionHistory", False)),
        }
    if a2a.get("documentationUrl"):
        card["documentation_url"] = a2a["documentationUrl"]
    kept = {name: a2a[name] for name in _KEPT_FIELDS if name in a2a}
    if kept:
        card["metadata"] = {"a2a": kept}
    return AgentCard.model_validate(card)


def _url(a2a: Mapping[str, Any]) -> Any:
    """v0.3's `url`, else v1.0's first `supportedInterfaces` entry that is not the platform's own
    execute route (a card Agora exported runs on Agora; it names no agent endpoint)."""
    if a2a.get("url"):
        return a2a["url"]
    interfaces = a2a.get("supportedInterfaces")
    for interface in interfaces if isinstance(interfaces, list) else []:
        if isinstance(interface, Mapping) and interface.get("protocolBinding") != EXECUTE_BINDING:
            return interface.get("url")
    return None


def _tool_name(skill_id: str) -> str:
    """A2A skill ids are free strings; tool names are identifiers."""
    name = _NOT_TOOL_NAME.sub("_", skill_id.strip())[:64]
    return name if name[:1].isalpha() else f"skill_{name}"[:64]


def _tags(skills: list[Mapping[str, Any]]) -> list[str]:
    tags: list[str] = []
    for skill in skills:
        for tag in skill.get("tags") or []:
            tag = str(tag).strip().lower().replace(" ", "-")
            if _TAG.fullmatch(tag) and tag not in tags and len(tags) < MAX_TAGS:
                tags.append(tag)
    return tags


# --- export: our card as an A2A (v1.0) AgentCard ---------------------------------------------

A2A_PROTOCOL_VERSION = "1.0"
# The platform's execute route is its own HTTP+JSON call (`POST /api/v1/agents/execute` with the
# agent's id as `tenant`), not A2A's message binding: an open-form binding name says so.
EXECUTE_BINDING = "AGORA+HTTP+JSON"
# The extension that carries each skill's JSON Schemas (A2A skills have no schema field).
TOOL_SCHEMAS_EXTENSION = "urn:agora:a2a:tool-schemas:v1"
JSON_MODE = "application/json"


def card_to_a2a(card: Mapping[str, Any], *, agent_id: str, execute_url: str) -> dict[str, Any]:
    """A stored card (plain object) as an A2A AgentCard, without `signatures`."""
    tools = card.get("tools") or []
    tags = list(card.get("tags") or [])
    a2a: dict[str, Any] = {
        "name": card["name"],
        "description": card["description"],
        "version": card["version"],
        "supportedInterfaces": [
            {
                "url": execute_url,
                "protocolBinding": EXECUTE_BINDING,
                "protocolVersion": A2A_PROTOCOL_VERSION,
                "tenant": agent_id,
            }
        ],
        "capabilities": {
            "streaming": bool((card.get("capabilities") or {}).get("streaming", False)),
            "pushNotifications": bool(
                (card.get("capabilities") or {}).get("push_notifications", False)
            ),
            "extensions": [
                {
                    "uri": TOOL_SCHEMAS_EXTENSION,
                    "description": "The JSON Schemas of each skill's input and output",
                    "required": False,
                    "params": {
                        "skills": {
                            tool["name"]: {
                                k: tool[k] for k in ("input_schema", "output_schema") if tool.get(k)
                            }
                            for tool in tools
                        }
                    },
                }
            ],
        },
        "securitySchemes": {
            "bearer": {
                "httpAuthSecurityScheme": {
                    "scheme": "Bearer",
                    "bearerFormat": "JWT",
                    "description": "A Firebase ID token of an Agora user or agent",
                }
            }
        },
        "securityRequirements": [{"schemes": {"bearer": {"list": []}}}],
        "defaultInputModes": [JSON_MODE],
        "defaultOutputModes": [JSON_MODE],
        "skills": [
            {
                "id": tool["name"],
                "name": tool["name"],
                "description": tool["description"],
                "tags": tags,
                "inputModes": [JSON_MODE],
                "outputModes": [JSON_MODE],
            }
            for tool in tools
        ],
    }
    provider = card.get("provider")
    if isinstance(provider, Mapping):
        a2a["provider"] = {k: provider[k] for k in ("organization", "url") if provider.get(k)}
    if card.get("documentation_url"):
        a2a["documentationUrl"] = card["documentation_url"]
    return a2a
