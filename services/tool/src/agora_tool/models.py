"""The catalog's answers and the bodies it accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agora_common.models.agent import plain_text


class ToolView(BaseModel):
    """One catalog entry; `owner_uid` only for the owner and admins."""

    tool_id: str
    name: str
    description: str
    agent_id: str
    agent_name: str
    owner_uid: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    tags: list[str]
    status: str
    current_version: str
    versions: list[str]
    created_at: datetime
    updated_at: datetime
    version_conflict: str | None = None


class ToolPage(BaseModel):
    items: list[ToolView]
    next_cursor: str | None = None


class VersionView(BaseModel):
    tool_id: str
    version: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    card_digest: str
    content_digest: str
    published_at: datetime
    deprecated: bool = False
    deprecation_message: str | None = None
    deprecated_at: datetime | None = None


class VersionList(BaseModel):
    tool_id: str
    # Highest semver first.
    items: list[VersionView]
    latest: str | None = None


class Deprecation(BaseModel):
    """Mark a version deprecated (with a message for its callers), or undo it."""

    model_config = ConfigDict(extra="forbid")

    deprecated: bool
    message: (
        Annotated[str, Field(min_length=1, max_length=500), AfterValidator(plain_text)] | None
    ) = None


class SyncResult(BaseModel):
    agent_id: str
    tools: list[str]


class ReconcileResult(BaseModel):
    agents: int
