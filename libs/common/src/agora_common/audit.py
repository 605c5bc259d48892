"""The platform's audit trail: who did what to whom, and when, in Firestore `audit_log`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from google.cloud import firestore
from pydantic import BaseModel, Field

from agora_common.clients import bounded_call
from agora_common.models.identity import UserIdentity

AUDIT_LOG = "audit_log"


class Actor(BaseModel):
    """Who acted: a signed-in user through the API, a service, or an operator's command line."""

    kind: Literal["user", "service", "cli"]
    uid: str | None = None
    email: str | None = None
    name: str | None = None  # a service's name, or the operator's login on the command line

    @classmethod
    def user(cls, identity: UserIdentity) -> Actor:
        return cls(kind="user", uid=identity.uid, email=identity.email)


class AuditEntry(BaseModel):
    id: str
    action: str  # e.g. "admin.grant", "agent.approve"
    actor: Actor
    target: dict[str, str | None]
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class AuditLog:
    """Append-only: entries are created, never updated or deleted by the platform."""

    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._entries = db.collection(AUDIT_LOG)
        self._call = bounded_call(timeout_s)

    async def record(
        self,
        action: str,
        actor: Actor,
        target: dict[str, str | None],
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        now = datetime.now(UTC)
        # Time-ordered ids keep the collection readable in the console without an index.
        entry_id = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}"
        entry = AuditEntry(
            id=entry_id, action=action, actor=actor, target=target, details=details or {}, at=now
        )
        await self._entries.document(entry_id).create(entry.model_dump(), **self._call)
        return entry
