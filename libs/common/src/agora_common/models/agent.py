"""Agent models shared by the registry, executor and vetting services: status and views."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from agora_common.models.card import AgentCard
from agora_common.models.fields import Strict, plain_text
from agora_common.models.identity import UserIdentity
from agora_common.models.signatures import CardSignatureCheck


class AgentStatus(StrEnum):
    PENDING_VETTING = "pending-vetting"
    VETTED = "vetted"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


def may_see_agent(user: UserIdentity, status: AgentStatus, owner_uid: str | None) -> bool:
    """Active agents to anyone; every other status only to the owner and admins."""
    owns = user.uid is not None and user.uid == owner_uid
    return status is AgentStatus.ACTIVE or user.admin or owns


class AgentView(BaseModel):
    """A registered agent as the registry answers it; owner fields only for the owner and admins."""

    id: str
    hash_id: str
    status: AgentStatus
    owner_uid: str | None = None
    status_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    # The stored card as a plain object: answers never re-validate what was accepted earlier.
    card: dict[str, Any]
    # Server-owned: what the registry found of an imported A2A card's signatures (owner fields).
    card_signatures: CardSignatureCheck | None = None


class AgentPage(BaseModel):
    """A page of whole agents, for the platform's own services (the tool catalog's reconcile)."""

    items: list[AgentView]
    next_cursor: str | None = None


class ToolSummary(BaseModel):
    name: str
    description: str


class AgentSummary(BaseModel):
    """One search result."""

    id: str
    name: str
    description: str
    version: str
    status: AgentStatus
    tags: list[str]
    tools: list[ToolSummary]
    deployment: dict[str, str]
    updated_at: datetime
    owner_uid: str | None = None


class SearchPage(BaseModel):
    items: list[AgentSummary]
    next_cursor: str | None = None


class RegistrationFor(Strict):
    """A card registered by a service for the user it verified (the tool service's submissions)."""

    owner_uid: Annotated[str, Field(min_length=1, max_length=128)]
    card: AgentCard


class StatusChange(Strict):
    """A status change asked by the vetting or executor service."""

    status: AgentStatus
    reason: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(plain_text)]
    # The admin or user behind the change, when there is one (e.g. the admin who approved).
    actor_uid: Annotated[str, Field(min_length=1, max_length=128)] | None = None
