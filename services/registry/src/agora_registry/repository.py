"""Every Firestore call of the registry: agents, their vetting queue entries, keys and events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.clients import bounded_call
from agora_common.models import AgentStatus
from agora_registry.names import key_id
from agora_registry.records import (
    AgentRecord,
    IdempotencyRecord,
    NameClaim,
    QueueEntry,
    StatusEvent,
)

AGENTS = "agents"
VETTING_QUEUE = "vetting_queue"
IDEMPOTENCY_KEYS = "registry_idempotency_keys"
STATUS_EVENTS = "status_events"
AGENT_NAMES = "agent_names"
REGISTRY_META = "registry_meta"
# Written once every agent stored before name reservations existed has its reservations.
NAMES_BACKFILLED = "names-backfilled"

# What a search result needs; production Firestore returns only these (the emulator ignores it).
SUMMARY_FIELDS = (
    "name",
    "description",
    "version",
    "status",
    "owner_uid",
    "tags",
    "tools",
    "deployment",
    "updated_at",
    "sort_key",
)

ArrayField = Literal["tool_names", "tags"]


class AlreadyStored(Exception):
    """A document the write meant to create exists already (nothing was written)."""


class StaleWrite(Exception):
    """The agent changed (or went away) since it was read (nothing was written)."""


@dataclass(frozen=True)
class AgentQuery:
    """One page of agents in sort-key order; each set field is one Firestore filter."""

    limit: int
    status: AgentStatus | None = None
    owner_uid: str | None = None
    # One array-contains per query is all Firestore allows.
    contains: tuple[ArrayField, str] | None = None
    # A case-folded name prefix.
    prefix: str | None = None
    # Keyset pagination: the sort key of the last agent already returned.
    after: str | None = None

    def index_fields(self) -> tuple[tuple[str, str], ...]:
        """The composite index this query needs, as (field, order or CONTAINS)."""
        fields: list[tuple[str, str]] = []
        if self.owner_uid is not None:
            fields.append(("owner_uid", "ASCENDING"))
        if self.status is not None:
            fields.append(("status", "ASCENDING"))
        if self.contains is not None:
            fields.append((self.contains[0], "CONTAINS"))
        fields.append(("sort_key", "ASCENDING"))
        return tuple(fields)


class AgentRepository:
    """The registry's Firestore collections, behind plain records."""

    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._call = bounded_call(timeout_s)
        self._agents = db.collection(AGENTS)
        self._queue = db.collection(VETTING_QUEUE)
        self._keys = db.collection(IDEMPOTENCY_KEYS)
        self._names = db.collection(AGENT_NAMES)

    async def get(self, agent_id: str) -> AgentRecord | None:
        snapshot = await self._agents.document(agent_id).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return replace(AgentRecord.from_document(agent_id, data), update_time=snapshot.update_time)

    async def get_idempotency(self, key_id: str) -> IdempotencyRecord | None:
        snapshot = await self._keys.document(key_id).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return IdempotencyRecord.from_document(key_id, data)

    async def create(
        self,
        record: AgentRecord,
        queue_entry: QueueEntry,
        key: IdempotencyRecord | None = None,
        *,
        replace_key: bool = False,
        names: Sequence[NameClaim] = (),
    ) -> None:
        """The agent, its queue entry, its idempotency key and its name claims, all or nothing.

        AlreadyStored when the key or a name was taken meanwhile, or a name claim changed.
        """
        batch = self._db.batch()
        # Names and key first: the local emulator applies a batch's writes in order and keeps
        # those before a failing one, so the writes that may fail go before the agent. A name
        # claim left behind that way names no agent, so it holds nothing (see NameClaims).
        self._claim(batch, names)
        if key is not None:
            key_ref = self._keys.document(key.id)
            if replace_key:  # an expired key is reused
                batch.set(key_ref, key.to_document())
            else:  # create(): a concurrent request with the same key fails the whole batch
                batch.create(key_ref, key.to_document())
        batch.create(self._agents.document(record.id), record.to_document())
        batch.set(self._queue.document(record.id), queue_entry.to_document())
        try:
            await batch.commit(**self._call)
        except (
            google_errors.AlreadyExists,
            google_errors.FailedPrecondition,
            google_errors.NotFound,
        ):
            raise AlreadyStored() from None

    async def update(
        self,
        before: AgentRecord,
        after: AgentRecord,
        *,
        enqueue: QueueEntry | None = None,
        dequeue: bool = False,
        event: StatusEvent | None = None,
        names: Sequence[NameClaim] = (),
    ) -> None:
        """Replace the agent if unchanged since `before` was read; queue, event, names with it."""
        batch = self._db.batch()
        self._claim(batch, names)  # first, as in create()
        ref = self._agents.document(before.id)
        option = (
            self._db.write_option(last_update_time=before.update_time)
            if before.update_time is not None
            else None
        )
        batch.update(ref, after.to_document(), option=option)
        if enqueue is not None:
            batch.set(self._queue.document(before.id), enqueue.to_document())
        elif dequeue:
            batch.delete(self._queue.document(before.id))
        if event is not None:
            events = ref.collection(STATUS_EVENTS)
            batch.create(events.document(event.id), event.to_document())
        try:
            await batch.commit(**self._call)
        except (
            google_errors.FailedPrecondition,
            google_errors.NotFound,
            google_errors.AlreadyExists,
        ):
            raise StaleWrite() from None

    def _claim(self, batch: Any, names: Sequence[NameClaim]) -> None:
        """Create each unclaimed name; rewrite a claimed one only if unchanged since it was read.

        Two owners racing for one name thus cannot both commit: one create fails with
        AlreadyExists, or one precondition fails, atomically (the emulator included).
        """
        for claim in names:
            ref = self._names.document(key_id(claim.key))
            if claim.update_time is None:
                batch.create(ref, claim.to_document())
            else:
                option = self._db.write_option(last_update_time=claim.update_time)
                batch.update(ref, claim.to_document(), option=option)

    async def name_claims(self, keys: Iterable[str]) -> dict[str, NameClaim]:
        """The stored claims on these name keys, by key."""
        refs = [self._names.document(key_id(key)) for key in keys]
        found: dict[str, NameClaim] = {}
        async for snapshot in self._db.get_all(refs, **self._call):
            data = snapshot.to_dict()
            if snapshot.exists and data is not None:
                claim = NameClaim.from_document(data, snapshot.update_time)
                found[claim.key] = claim
        return found

    async def claim_if_unclaimed(self, claim: NameClaim) -> None:
        """Store a claim unless the key is claimed already (by anyone)."""
        ref = self._names.document(key_id(claim.key))
        with suppress(google_errors.AlreadyExists):
            await ref.create(claim.to_document(), **self._call)

    async def agent_names(self, owner_uid: str | None = None) -> list[tuple[str, str, AgentStatus]]:
        """(owner, name, status) of one owner's agents, or of every agent."""
        q: Any = self._agents
        if owner_uid is not None:
            q = q.where(filter=FieldFilter("owner_uid", "==", owner_uid))
        q = q.select(("owner_uid", "name", "status"))
        return [
            (data["owner_uid"], data["name"], AgentStatus(data["status"]))
            async for doc in q.stream(**self._call)
            if (data := doc.to_dict()) is not None
        ]

    async def names_backfilled(self) -> bool:
        snapshot = (
            await self._db.collection(REGISTRY_META).document(NAMES_BACKFILLED).get(**self._call)
        )
        return bool(snapshot.exists)

    async def mark_names_backfilled(self, now: datetime) -> None:
        ref = self._db.collection(REGISTRY_META).document(NAMES_BACKFILLED)
        await ref.set({"at": now}, **self._call)

    async def delete(self, record: AgentRecord) -> None:
        """The agent, its queue entry and its idempotency key; status events stay as the audit."""
        batch = self._db.batch()
        batch.delete(self._agents.document(record.id))
        batch.delete(self._queue.document(record.id))
        if record.idempotency_id is not None:
            batch.delete(self._keys.document(record.idempotency_id))
        await batch.commit(**self._call)

    async def search(self, query: AgentQuery) -> list[dict[str, Any]]:
        """Summary fields of one page of agents, with their ids under "id"."""
        lower, upper = _sort_key_bounds(query.prefix, query.after)
        if lower is not None and upper is not None and lower[1] >= upper:
            return []
        q: Any = self._agents
        if query.owner_uid is not None:
            q = q.where(filter=FieldFilter("owner_uid", "==", query.owner_uid))
        if query.status is not None:
            q = q.where(filter=FieldFilter("status", "==", query.status.value))
        if query.contains is not None:
            field, value = query.contains
            q = q.where(filter=FieldFilter(field, "array_contains", value))
        if lower is not None:
            q = q.where(filter=FieldFilter("sort_key", lower[0], lower[1]))
        if upper is not None:
            q = q.where(filter=FieldFilter("sort_key", "<", upper))
        q = q.order_by("sort_key").limit(query.limit).select(SUMMARY_FIELDS)
        return [{**(doc.to_dict() or {}), "id": doc.id} async for doc in q.stream(**self._call)]

    async def records(
        self, status: AgentStatus, *, after: str | None, limit: int
    ) -> list[AgentRecord]:
        """Whole agents of one status in sort-key order, after the sort key `after`."""
        q: Any = self._agents.where(filter=FieldFilter("status", "==", status.value))
        if after is not None:
            q = q.where(filter=FieldFilter("sort_key", ">", after))
        q = q.order_by("sort_key").limit(limit)
        return [
            replace(
                AgentRecord.from_document(doc.id, doc.to_dict() or {}), update_time=doc.update_time
            )
            async for doc in q.stream(**self._call)
        ]

    async def queue_entry(self, agent_id: str) -> dict[str, Any] | None:
        snapshot = await self._queue.document(agent_id).get(**self._call)
        return snapshot.to_dict() if snapshot.exists else None

    async def status_events(self, agent_id: str) -> list[dict[str, Any]]:
        events = self._agents.document(agent_id).collection(STATUS_EVENTS).order_by("at")
        return [doc.to_dict() or {} async for doc in events.stream(**self._call)]


def _sort_key_bounds(
    prefix: str | None, after: str | None
) -> tuple[tuple[str, str] | None, str | None]:
    """(operator, value) of the lower bound and the exclusive upper bound of sort_key."""
    lower: tuple[str, str] | None = None
    if prefix:
        lower = (">=", prefix)
    if after is not None and (lower is None or after >= lower[1]):
        lower = (">", after)
    return lower, (prefix_end(prefix) if prefix else None)


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` (None: no bound).

    Firestore orders strings by UTF-8 bytes, which is code point order, so bumping the last
    code point works for every script (unlike the usual "\\uf8ff" suffix).
    """
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:
            last = 0xE000  # surrogates cannot be encoded
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None
