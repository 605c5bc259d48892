"""The agent card: what an owner registers, its validation, its one serialization and digest."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from agora_common.models.fields import DisplayName, Strict, WebUrl, json_size, plain_text

MAX_DESCRIPTION_CHARS = 2000
MAX_TOOL_DESCRIPTION_CHARS = 1000
MAX_TOOLS = 64
MAX_TAGS = 16
MAX_METADATA_BYTES = 8 * 1024
MAX_CARD_BYTES = 128 * 1024

_TOOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
# semver.org's regex, with [0-9] because \d also matches non-ASCII digits.
_SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_IMAGE = re.compile(
    r"(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
_REGION = re.compile(r"[a-z]+(?:-[a-z]+)+[0-9]+")


class KeyProvider(StrEnum):
    """The model providers whose API keys users may store, and agents may ask to use."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    MISTRAL = "mistral"
    COHERE = "cohere"
    GROQ = "groq"


# Keys of `metadata` the platform itself reads, and what each may hold.
_SOURCE = re.compile(r"agents/[a-z][a-z0-9_-]{0,63}")
# A submitted package's archive in the platform's source bucket; set by the tool service only.
PACKAGE_SOURCE = re.compile(
    r"gs://[a-z0-9][a-z0-9._-]{1,220}/packages/sha256-[0-9a-f]{64}\.tar\.gz"
)
MAX_AGENT_TIMEOUT_S = 300


def _platform_metadata(value: dict[str, Any]) -> None:
    keys = value.get("provider_keys")
    if keys is not None:
        if not isinstance(keys, list) or len(set(map(str, keys))) != len(keys):
            raise ValueError("provider_keys must be a list of distinct provider names")
        allowed = {p.value for p in KeyProvider}
        if any(not isinstance(k, str) or k not in allowed for k in keys):
            raise ValueError(f"provider_keys may name only: {', '.join(sorted(allowed))}")
    source = value.get("source")
    if source is not None and not (
        isinstance(source, str) and (_SOURCE.fullmatch(source) or PACKAGE_SOURCE.fullmatch(source))
    ):
        raise ValueError("source must be a folder of the platform's agents, e.g. agents/quantflow")
    timeout = value.get("timeout_s")
    if timeout is not None and not (
        isinstance(timeout, int | float)
        and not isinstance(timeout, bool)
        and 0 < timeout <= MAX_AGENT_TIMEOUT_S
    ):
        raise ValueError(f"timeout_s must be a number of seconds, at most {MAX_AGENT_TIMEOUT_S}")


class ToolSpec(Strict):
    """One tool of an agent (an A2A skill), with the JSON Schemas of its input and output.

    `output_schema` is optional, as MCP's `outputSchema` is: when given, it describes the object
    the tool answers with (MCP's `structuredContent`).
    """

    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[
        str, Field(min_length=1, max_length=MAX_TOOL_DESCRIPTION_CHARS), AfterValidator(plain_text)
    ]
    # Checked against the JSON Schema metaschema by the registry (jsonschema is its dependency).
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _tool_name(cls, value: str) -> str:
        if not _TOOL_NAME.fullmatch(value):
            raise ValueError("must start with a letter and use only letters, digits, _ and -")
        return value


class Deployment(Strict):
    """Where the agent runs: a URL, a container image, or both."""

    url: WebUrl | None = None
    image: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    region: Annotated[str, Field(min_length=1, max_length=40)] | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not _IMAGE.fullmatch(value):
            raise ValueError("must be a container image reference (registry/name[:tag][@digest])")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.fullmatch(value):
            raise ValueError("must be a cloud region such as us-central1")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.url is None and self.image is None:
            raise ValueError("needs a url or an image")
        return self


class Provider(Strict):
    """Who publishes the agent (A2A `provider`)."""

    organization: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(plain_text)]
    url: WebUrl | None = None


class Capabilities(Strict):
    """Optional protocol features (A2A `capabilities`)."""

    streaming: bool = False
    push_notifications: bool = False
    state_transition_history: bool = False


class AgentCard(Strict):
    """What an owner registers: a superset of the A2A AgentCard where the two overlap."""

    name: DisplayName
    description: Annotated[
        str, Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS), AfterValidator(plain_text)
    ]
    version: Annotated[str, Field(min_length=1, max_length=64)]
    tools: Annotated[list[ToolSpec], Field(min_length=1, max_length=MAX_TOOLS)]
    deployment: Deployment
    tags: Annotated[list[str], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    provider: Provider | None = None
    capabilities: Capabilities = Field(default_factory=Capabilities)
    documentation_url: WebUrl | None = None
    metadata: dict[str, Any] | None = None
    # How the executor calls the agent: absent, the platform's own protocol (a signed
    # `POST {url}/execute`); "mcp", `deployment.url` is an MCP endpoint (Streamable HTTP) and each
    # tool is called with tools/call. Absent rather than defaulted, so existing cards' digests stay.
    protocol: Literal["agora", "mcp"] | None = None

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not _SEMVER.fullmatch(value):
            raise ValueError("must be a semantic version such as 1.0.0")
        return value

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, tools: list[ToolSpec]) -> list[ToolSpec]:
        seen: set[str] = set()
        for index, tool in enumerate(tools):
            # Case-insensitively: "Search" and "search" side by side would confuse callers.
            if tool.name.lower() in seen:
                raise ValueError(f"tool names must be unique: tools[{index}] repeats a name")
            seen.add(tool.name.lower())
        return tools

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        for index, tag in enumerate(tags):
            if not _TAG.fullmatch(tag):
                raise ValueError(f"tags[{index}] must be 1-32 lowercase letters, digits or -")
        if len(set(tags)) != len(tags):
            raise ValueError("tags must be unique")
        return tags

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and json_size(value) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
        if value is not None:
            _platform_metadata(value)
        return value

    @model_validator(mode="after")
    def _mcp_hosted_elsewhere(self) -> Self:
        if self.protocol == "mcp" and (
            self.deployment.url is None
            or self.deployment.image is not None
            or (self.metadata or {}).get("source") is not None
        ):
            raise ValueError(
                "an MCP agent's deployment is its MCP endpoint: a url, and no image or source"
            )
        return self

    @model_validator(mode="after")
    def _card_size(self) -> Self:
        if len(canonical_card_json(self).encode()) > MAX_CARD_BYTES:
            raise ValueError(f"the card must be at most {MAX_CARD_BYTES} bytes as JSON")
        return self


# The card's top-level fields: what a PATCH may change.
CARD_FIELDS = frozenset(AgentCard.model_fields)


def package_source(card: AgentCard | Mapping[str, Any]) -> str | None:
    """The submitted package a card runs from (`metadata.source`), if it names one."""
    metadata = card.metadata if isinstance(card, AgentCard) else card.get("metadata")
    source = (metadata or {}).get("source")
    return source if isinstance(source, str) and PACKAGE_SOURCE.fullmatch(source) else None


def speaks_mcp(card: Mapping[str, Any]) -> bool:
    """Whether the card's agent is an MCP server (`protocol: "mcp"`)."""
    return card.get("protocol") == "mcp"


def hosted_elsewhere(card: Mapping[str, Any]) -> bool:
    """A card whose agent runs at its own URL: no image and no source for the platform to deploy.

    Approving such an agent activates it without a deploy; the executor calls its URL.
    """
    deployment = card.get("deployment") or {}
    source = (card.get("metadata") or {}).get("source")
    return bool(deployment.get("url")) and not deployment.get("image") and not source


def canonical_card_json(card: AgentCard) -> str:
    """The one serialization of a card: sorted keys, no spaces; what digests and ETags cover."""
    return json.dumps(
        card.model_dump(mode="json", exclude_none=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def card_digest(card_json: str) -> str:
    """SHA-256 of the canonical card JSON, hex."""
    return hashlib.sha256(card_json.encode()).hexdigest()
