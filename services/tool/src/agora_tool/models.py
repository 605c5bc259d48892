"""The catalog's answers and the bodies it accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agora_common.models.fields import plain_text


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


class SubmissionView(BaseModel):
    """A submitted package: the agent it became (pending vetting) and its tools."""

    agent_id: str
    status: str
    package_digest: str
    tool_ids: list[str]


class ApproveTool(BaseModel):
    """The admin's approval of a submitted tool: the same as approving its agent."""

    model_config = ConfigDict(extra="forbid")

    notes: (
        Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(plain_text)] | None
    ) = None
    accept_findings: bool = False


class Approval(BaseModel):
    """The vetting decision, and the tool as the catalog lists it after it."""

    decision: dict[str, Any]
    tool: ToolView


class JobView(BaseModel):
    """A Tool Factory job: its step and progress, then its package (files, card, digest) and the
    report of its checks."""

    job_id: str
    status: str
    step: str | None = None
    progress: dict[str, int]
    package_digest: str | None = None
    card: dict[str, Any] | None = None
    files: dict[str, str] | None = None
    report: list[dict[str, Any]] = []
    error: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    links: dict[str, str]


class GeneratedSubmission(BaseModel):
    """Submit a Tool Factory output by the digest its job reported."""

    model_config = ConfigDict(extra="forbid")

    package_digest: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
