"""The catalog's records: one entry per tool, and its immutable versions (pure: no I/O).

A tool's id is stable: its agent's id and its name, case-folded (`<agent_id>.<name>`). Schemas
are stored as JSON strings, as the registry stores cards: they may nest deeper than Firestore
maps allow.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import semver

from agora_common.models import AgentStatus

SORT_SEPARATOR = "\x00"
# The entry's status when its agent no longer lists it, or the agent was deleted.
REMOVED = "removed"
PUBLIC = AgentStatus.ACTIVE.value
MAX_TERMS = 400
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TOOL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\.[a-z][a-z0-9_-]{0,63}")
_MIN_PREFIX = 2
_MAX_PREFIX = 24


def tool_id_of(agent_id: str, tool_name: str) -> str:
    return f"{agent_id}.{tool_name.lower()}"


def valid_tool_id(tool_id: str) -> bool:
    return bool(_TOOL_ID.fullmatch(tool_id))


def search_terms(name: str, description: str) -> list[str]:
    """Case-folded words of the name and description, and their prefixes (what `q` matches)."""
    terms: set[str] = {name.casefold()}
    for word in _WORD.findall(f"{name} {description}".casefold()):
        for end in range(min(_MIN_PREFIX, len(word)), min(len(word), _MAX_PREFIX) + 1):
            terms.add(word[:end])
            if len(terms) >= MAX_TERMS:
                return sorted(terms)
    return sorted(terms)


def query_terms(q: str) -> list[str]:
    """The words of a query, case-folded and cut to the longest prefix terms hold."""
    return [word[:_MAX_PREFIX] for word in _WORD.findall(q.casefold())]


def version_key(version: str) -> semver.Version:
    """Semantic-version precedence; cards are semver-checked, so an odd old one sorts first."""
    try:
        return semver.Version.parse(version)
    except ValueError:
        return semver.Version(0)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ToolContent:
    """What a version pins: the tool's description and schemas, and the card they came from."""

    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    card_digest: str

    @property
    def digest(self) -> str:
        """Of the tool's own content: a card change elsewhere does not make it another version."""
        material = [self.description, self.input_schema, self.output_schema]
        return hashlib.sha256(canonical_json(material).encode()).hexdigest()

    @classmethod
    def from_card_tool(cls, tool: dict[str, Any], card_digest: str) -> ToolContent:
        return cls(
            description=str(tool["description"]),
            input_schema=dict(tool["input_schema"]),
            output_schema=tool.get("output_schema"),
            card_digest=card_digest,
        )


@dataclass(frozen=True)
class ToolVersion:
    """One published version. Everything but the deprecation is immutable once written."""

    version: str
    content: ToolContent
    published_at: datetime
    deprecated: bool = False
    deprecation_message: str | None = None
    deprecated_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "description": self.content.description,
            "input_schema": canonical_json(self.content.input_schema),
            "output_schema": (
                canonical_json(self.content.output_schema)
                if self.content.output_schema is not None
                else None
            ),
            "card_digest": self.content.card_digest,
            "content_digest": self.content.digest,
            "published_at": self.published_at,
            "deprecated": self.deprecated,
            "deprecation_message": self.deprecation_message,
            "deprecated_at": self.deprecated_at,
        }

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> ToolVersion:
        output = data.get("output_schema")
        return cls(
            version=data["version"],
            content=ToolContent(
                description=data["description"],
                input_schema=json.loads(data["input_schema"]),
                output_schema=json.loads(output) if output else None,
                card_digest=data["card_digest"],
            ),
            published_at=data["published_at"],
            deprecated=bool(data.get("deprecated", False)),
            deprecation_message=data.get("deprecation_message"),
            deprecated_at=data.get("deprecated_at"),
        )


@dataclass(frozen=True)
class ToolEntry:
    """A tool as the catalog lists it: its current version's content and where it comes from."""

    tool_id: str
    name: str
    agent_id: str
    agent_name: str
    owner_uid: str
    tags: tuple[str, ...]
    status: str
    current_version: str
    content: ToolContent
    versions: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    # Set when the agent's live card reuses a published version with other content.
    version_conflict: str | None = None
    update_time: datetime | None = field(default=None, compare=False)

    @property
    def public(self) -> bool:
        return self.status == PUBLIC

    @property
    def sort_key(self) -> str:
        return f"{self.name.casefold()}{SORT_SEPARATOR}{self.tool_id}"

    def with_status(self, status: str, now: datetime) -> ToolEntry:
        return self if status == self.status else replace(self, status=status, updated_at=now)

    @property
    def terms(self) -> list[str]:
        """What `q` matches (see `search_terms`)."""
        return search_terms(self.name, self.content.description)

    @property
    def input_fields(self) -> list[str]:
        """The input schema's top-level property names, case-folded (what `input_field` matches)."""
        names = {str(k).casefold() for k in self.content.input_schema.get("properties", {})}
        return sorted(names)[:64]

    def array_field(self, name: str) -> list[str]:
        """One of the fields queries filter with array-contains."""
        match name:
            case "terms":
                return self.terms
            case "input_fields":
                return self.input_fields
            case _:
                return list(self.tags)

    def to_document(self) -> dict[str, Any]:
        return {
            "tool_id": self.tool_id,
            "name": self.name,
            "description": self.content.description,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "owner_uid": self.owner_uid,
            "tags": list(self.tags),
            "status": self.status,
            "current_version": self.current_version,
            "versions": list(self.versions),
            "input_schema": canonical_json(self.content.input_schema),
            "output_schema": (
                canonical_json(self.content.output_schema)
                if self.content.output_schema is not None
                else None
            ),
            "card_digest": self.content.card_digest,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version_conflict": self.version_conflict,
            # What queries filter on.
            "terms": self.terms,
            "input_fields": self.input_fields,
            "sort_key": self.sort_key,
        }

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> ToolEntry:
        output = data.get("output_schema")
        return cls(
            tool_id=data["tool_id"],
            name=data["name"],
            agent_id=data["agent_id"],
            agent_name=data["agent_name"],
            owner_uid=data["owner_uid"],
            tags=tuple(data.get("tags", ())),
            status=data["status"],
            current_version=data["current_version"],
            content=ToolContent(
                description=data["description"],
                input_schema=json.loads(data["input_schema"]),
                output_schema=json.loads(output) if output else None,
                card_digest=data["card_digest"],
            ),
            versions=tuple(data.get("versions", ())),
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            version_conflict=data.get("version_conflict"),
        )
