"""Who may see what of an agent, and the answers built from records and search results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agora_common.errors import Forbidden
from agora_common.models import (
    AgentStatus,
    AgentSummary,
    AgentView,
    CallerKind,
    ToolSummary,
    UserIdentity,
    may_see_agent,
)
from agora_registry.records import AgentRecord


@dataclass(frozen=True)
class Manifest:
    """An agent's card as registered, for GET /{id}/manifest."""

    body: bytes
    etag: str
    # How long shared caches may keep it; None: private, not to be stored.
    public_max_age_s: int | None


def is_owner(user: UserIdentity, record: AgentRecord) -> bool:
    return user.uid is not None and user.uid == record.owner_uid


def may_see(user: UserIdentity, record: AgentRecord) -> bool:
    return may_see_agent(user, record.status, record.owner_uid)


def agent_view(user: UserIdentity, record: AgentRecord) -> AgentView:
    """The agent; the owner fields (owner_uid, status_reason) only for the owner and admins."""
    full = user.admin or is_owner(user, record)
    return full_view(record) if full else public_view(record)


def full_view(record: AgentRecord) -> AgentView:
    return AgentView(
        id=record.id,
        hash_id=record.id,
        status=record.status,
        owner_uid=record.owner_uid,
        status_reason=record.status_reason,
        created_at=record.created_at,
        updated_at=record.updated_at,
        card=record.card,
        card_signatures=record.card_signatures,
    )


def public_view(record: AgentRecord) -> AgentView:
    return full_view(record).model_copy(
        update={"owner_uid": None, "status_reason": None, "card_signatures": None}
    )


def summary(doc: dict[str, Any], *, full: bool) -> AgentSummary:
    """One search result from the summary fields of an agent document."""
    return AgentSummary(
        id=doc["id"],
        name=doc["name"],
        description=doc["description"],
        version=doc["version"],
        status=AgentStatus(doc["status"]),
        tags=doc.get("tags", []),
        tools=[ToolSummary(**tool) for tool in doc.get("tools", [])],
        deployment=doc.get("deployment", {}),
        updated_at=doc["updated_at"],
        owner_uid=doc["owner_uid"] if full else None,
    )


def require_user(user: UserIdentity) -> str:
    """Writes are for signed-in people, not for agents acting on their own tokens."""
    if user.kind is not CallerKind.USER or user.uid is None:
        raise Forbidden("Only signed-in users can do this", code="USER_REQUIRED")
    return user.uid
