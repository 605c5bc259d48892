"""What the registry stores: an agent record and its Firestore document shape."""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agora_common.models import AgentCard, AgentStatus, canonical_card_json, card_digest
from agora_common.models.signatures import CardSignatureCheck

# Sorts below every character a name may hold, so "ab" < "ab c" holds for the sort keys too.
SORT_SEPARATOR = "\x1f"
_AGENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_agent_id(agent_id: str) -> bool:
    """Ids we could have issued; Firestore also reserves ids shaped like __name__."""
    return bool(_AGENT_ID.fullmatch(agent_id)) and not (
        agent_id.startswith("__") and agent_id.endswith("__")
    )


def name_key(text: str) -> str:
    """The case-insensitive form of a name or a name prefix."""
    return unicodedata.normalize("NFC", text).casefold()


@dataclass(frozen=True)
class AgentRecord:
    """One agent: server-owned fields plus the card, kept as its canonical JSON."""

    id: str
    owner_uid: str
    status: AgentStatus
    card_json: str
    created_at: datetime
    updated_at: datetime
    status_reason: str | None = None
    idempotency_id: str | None = None
    # Server-owned: an imported A2A card's signatures as checked at import (JSON), or None.
    card_signatures_json: str | None = None
    # Firestore's update time when read: the precondition of the next write (not stored).
    update_time: datetime | None = field(default=None, compare=False)

    @classmethod
    def new(
        cls,
        agent_id: str,
        owner_uid: str,
        card: AgentCard,
        now: datetime,
        idempotency_id: str | None,
        card_signatures: CardSignatureCheck | None = None,
    ) -> AgentRecord:
        return cls(
            id=agent_id,
            owner_uid=owner_uid,
            status=AgentStatus.PENDING_VETTING,
            card_json=canonical_card_json(card),
            created_at=now,
            updated_at=now,
            idempotency_id=idempotency_id,
            card_signatures_json=card_signatures.model_dump_json() if card_signatures else None,
        )

    @property
    def card_signatures(self) -> CardSignatureCheck | None:
        if self.card_signatures_json is None:
            return None
        return CardSignatureCheck.model_validate_json(self.card_signatures_json)

    @property
    def card(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.card_json)
        return loaded

    @property
    def digest(self) -> str:
        return card_digest(self.card_json)

    @property
    def sort_key(self) -> str:
        """Where the agent sits in listings: its case-folded name, then its id."""
        return f"{name_key(str(self.card['name']))}{SORT_SEPARATOR}{self.id}"

    def with_card(self, card: AgentCard, now: datetime) -> AgentRecord:
        """A changed card is no longer the imported one its signatures covered: they go."""
        card_json = canonical_card_json(card)
        signatures = self.card_signatures_json if card_json == self.card_json else None
        return replace(self, card_json=card_json, updated_at=now, card_signatures_json=signatures)

    def with_status(self, status: AgentStatus, reason: str | None, now: datetime) -> AgentRecord:
        return replace(self, status=status, status_reason=reason, updated_at=now)

    def to_document(self) -> dict[str, Any]:
        """The stored fields: the card as JSON (source of truth) plus what queries need."""
        card = self.card
        name = str(card["name"])
        return {
            "hash_id": self.id,
            "owner_uid": self.owner_uid,
            "status": self.status.value,
            "status_reason": self.status_reason,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "idempotency_id": self.idempotency_id,
            "card_signatures": self.card_signatures_json,
            # A JSON string, not a map: tool schemas may nest deeper than Firestore's 20 levels
            # or hold arrays of arrays, which Firestore maps cannot.
            "card": self.card_json,
            "card_digest": self.digest,
            "name": name,
            "name_lower": name_key(name),
            "sort_key": self.sort_key,
            "description": card["description"],
            "version": card["version"],
            "tools": [{"name": t["name"], "description": t["description"]} for t in card["tools"]],
            "tool_names": [t["name"] for t in card["tools"]],
            "tags": list(card.get("tags", [])),
            "deployment": dict(card["deployment"]),
        }

    @classmethod
    def from_document(cls, agent_id: str, data: dict[str, Any]) -> AgentRecord:
        return cls(
            id=agent_id,
            owner_uid=data["owner_uid"],
            status=AgentStatus(data["status"]),
            card_json=data["card"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            status_reason=data.get("status_reason"),
            idempotency_id=data.get("idempotency_id"),
            card_signatures_json=data.get("card_signatures"),
        )


@dataclass(frozen=True)
class IdempotencyRecord:
    """An Idempotency-Key of one user: which agent it created from which body."""

    id: str
    uid: str
    agent_id: str
    body_digest: str
    created_at: datetime
    expire_at: datetime

    def to_document(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "agent_id": self.agent_id,
            "body_digest": self.body_digest,
            "created_at": self.created_at,
            # A Firestore TTL policy on this field deletes old keys (firestore.indexes.json).
            "expire_at": self.expire_at,
        }

    @classmethod
    def from_document(cls, key_id: str, data: dict[str, Any]) -> IdempotencyRecord:
        return cls(
            id=key_id,
            uid=data["uid"],
            agent_id=data["agent_id"],
            body_digest=data["body_digest"],
            created_at=data["created_at"],
            expire_at=data["expire_at"],
        )


@dataclass(frozen=True)
class StatusEvent:
    """One status change: who (service and optional user), when, why."""

    id: str
    from_status: AgentStatus
    to_status: AgentStatus
    reason: str
    by_service: str
    actor_uid: str | None
    at: datetime

    @classmethod
    def new(
        cls,
        before: AgentStatus,
        after: AgentStatus,
        reason: str,
        service: str,
        actor_uid: str | None,
        now: datetime,
    ) -> StatusEvent:
        return cls(secrets.token_urlsafe(12), before, after, reason, service, actor_uid, now)

    def to_document(self) -> dict[str, Any]:
        return {
            "from": self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "by_service": self.by_service,
            "actor_uid": self.actor_uid,
            "at": self.at,
        }


@dataclass(frozen=True)
class QueueEntry:
    """The vetting service's work item for one agent."""

    agent_id: str
    owner_uid: str
    submitted_at: datetime
    card_digest: str

    @classmethod
    def of(cls, record: AgentRecord, now: datetime) -> QueueEntry:
        """The entry for a submitted or resubmitted agent."""
        return cls(record.id, record.owner_uid, now, record.digest)

    def to_document(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "owner_uid": self.owner_uid,
            "submitted_at": self.submitted_at,
            "card_digest": self.card_digest,
        }


@dataclass(frozen=True)
class NameClaim:
    """One name key (see names.name_keys) reserved by one owner for their agents."""

    key: str
    owner_uid: str
    claimed_at: datetime | None = None
    # Firestore's update time when read: the next write is conditional on it (not stored).
    update_time: datetime | None = field(default=None, compare=False)

    def to_document(self) -> dict[str, Any]:
        return {"key": self.key, "owner_uid": self.owner_uid, "claimed_at": self.claimed_at}

    @classmethod
    def from_document(cls, data: dict[str, Any], update_time: datetime | None) -> NameClaim:
        return cls(data["key"], data["owner_uid"], data.get("claimed_at"), update_time)
