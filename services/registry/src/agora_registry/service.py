"""The registry's rules: who may register, read, change and delete an agent, and how."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from agora_common.answer_cache import AnswerCache
from agora_common.cache import ReadThrough
from agora_common.cursors import next_cursor, resume_after
from agora_common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agora_common.models import (
    AgentCard,
    AgentPage,
    AgentStatus,
    AgentView,
    StatusChange,
    UserIdentity,
    canonical_card_json,
    card_digest,
    package_source,
)
from agora_common.models.signatures import CardSignatureCheck
from agora_registry import lifecycle
from agora_registry.card_rules import (
    check_card,
    check_package_source,
    check_patch_fields,
    validate_card,
    with_normal_name,
)
from agora_registry.name_claims import NameClaims
from agora_registry.notices import PeerNotices
from agora_registry.records import (
    AgentRecord,
    IdempotencyRecord,
    NameClaim,
    QueueEntry,
    StatusEvent,
    valid_agent_id,
)
from agora_registry.repository import AgentRepository, AlreadyStored, StaleWrite
from agora_registry.settings import RegistrySettings
from agora_registry.views import (
    Manifest,
    agent_view,
    full_view,
    is_owner,
    may_see,
    require_user,
)

# Status changes the registry makes itself (owner edits) are recorded as made by this service.
SELF = "registry"
# Tries of a registration whose name claim lost a race that may still leave the name free.
CLAIM_ATTEMPTS = 3


class AgentNotFound(NotFound):
    code, message = "AGENT_NOT_FOUND", "Agent not found"


class IdempotencyKeyReused(ValidationFailed):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used with a different body"


class RegistryService:
    """Agents: register, read, change, delete, and status changes from vetting and executor."""

    def __init__(
        self,
        repository: AgentRepository,
        cache: AnswerCache,
        settings: RegistrySettings,
        notices: PeerNotices | None = None,
    ) -> None:
        self._repo = repository
        self._cache = cache
        self._settings = settings
        self._notices = notices
        self._names = NameClaims(repository)
        # Public reads only (see RegistrySettings.read_cache_ttl_s; a TTL of 0 keeps nothing).
        self._reads: ReadThrough[AgentRecord | None] = ReadThrough(
            repository.get,
            ttl_s=settings.read_cache_ttl_s,
            max_entries=settings.read_cache_entries,
        )

    async def register(
        self,
        user: UserIdentity,
        card: AgentCard,
        idempotency_key: str | None,
        *,
        packaged: bool = False,
        card_signatures: CardSignatureCheck | None = None,
    ) -> tuple[AgentView, bool]:
        """The new agent (pending vetting, owned by the caller), or the one this key created.

        The second element is True when the answer replays an earlier request. `packaged`: the
        tool service registers a submitted package, the one caller that may name it as source.
        `card_signatures`: what the A2A import found of the card's signatures (server-owned).
        """
        uid = require_user(user)
        check_card(card, local=self._settings.is_local)
        check_package_source(card, None, packaged=packaged)
        card = with_normal_name(card, local=self._settings.is_local)
        now = datetime.now(UTC)
        body_digest = card_digest(canonical_card_json(card))
        agent_id = secrets.token_urlsafe(16)
        key: IdempotencyRecord | None = None
        replace_key = False
        if idempotency_key is not None:
            key_id = hashlib.sha256(f"{uid}\x00{idempotency_key}".encode()).hexdigest()
            existing = await self._repo.get_idempotency(key_id)
            replayed = await self._replay(existing, body_digest, now)
            if replayed is not None:
                return replayed, True
            # A key that expired, or whose agent was deleted meanwhile, is used afresh.
            replace_key = existing is not None
            expire_at = now + timedelta(seconds=self._settings.idempotency_ttl_s)
            key = IdempotencyRecord(key_id, uid, agent_id, body_digest, now, expire_at)
        record = AgentRecord.new(agent_id, uid, card, now, key.id if key else None, card_signatures)
        for _ in range(CLAIM_ATTEMPTS):
            names = await self._names.plan(uid, card.name, now)  # 409 when another owner's
            try:
                await self._repo.create(
                    record, QueueEntry.of(record, now), key, replace_key=replace_key, names=names
                )
            except AlreadyStored:
                # A concurrent request with the same key won the race: answer as its replay.
                # Otherwise a name claim changed meanwhile: plan again (409 if it is taken now).
                if key is not None:
                    existing = await self._repo.get_idempotency(key.id)
                    replayed = await self._replay(existing, body_digest, now)
                    if replayed is not None:
                        return replayed, True
                continue
            self._reads.discard(record.id)
            self._submitted(record)
            await self._cache.invalidate()
            return full_view(record), False
        raise Conflict("The agent could not be stored; retry")

    async def _replay(
        self, key: IdempotencyRecord | None, body_digest: str, now: datetime
    ) -> AgentView | None:
        """The agent an unexpired key created; 422 when the key came with another body."""
        if key is None or key.expire_at <= now:
            return None
        if key.body_digest != body_digest:
            raise IdempotencyKeyReused()
        record = await self._repo.get(key.agent_id)
        return full_view(record) if record is not None else None

    async def get(self, user: UserIdentity, agent_id: str) -> AgentView:
        return agent_view(user, await self._visible(user, agent_id, cached=True))

    async def visible_record(self, user: UserIdentity, agent_id: str) -> AgentRecord:
        """The stored agent if this user may see it (as GET /{id}); 404 otherwise."""
        return await self._visible(user, agent_id, cached=True)

    async def get_for_service(self, agent_id: str) -> AgentView:
        """Any agent with its owner fields, for the platform's own services."""
        record = await self._repo.get(agent_id)
        if record is None:
            raise AgentNotFound()
        return full_view(record)

    async def list_for_service(
        self, status: AgentStatus, cursor: str | None, limit: int
    ) -> AgentPage:
        """Whole agents of one status, a page at a time, for the platform's own services."""
        material = ["internal", status.value]
        records = await self._repo.records(
            status, after=resume_after(cursor, material), limit=limit + 1
        )
        more = len(records) > limit
        records = records[:limit]
        last = records[-1].sort_key if more and records else None
        return AgentPage(
            items=[full_view(r) for r in records], next_cursor=next_cursor(last, material)
        )

    async def manifest(self, user: UserIdentity, agent_id: str) -> Manifest:
        """The card as registered, its strong ETag, and whether shared caches may keep it."""
        record = await self._visible(user, agent_id, cached=True)
        return Manifest(
            body=record.card_json.encode(),
            etag=f'"{record.digest}"',
            public_max_age_s=(
                self._settings.manifest_max_age_s if record.status is AgentStatus.ACTIVE else None
            ),
        )

    async def update(self, user: UserIdentity, agent_id: str, patch: dict[str, Any]) -> AgentView:
        """Owner only: replace top-level card fields, re-vetting when tools or deployment change."""
        require_user(user)
        record = await self._visible(user, agent_id)
        if not is_owner(user, record):
            raise Forbidden("Only the owner can change this agent", code="NOT_AGENT_OWNER")
        check_patch_fields(patch)
        merged = {k: v for k, v in {**record.card, **patch}.items() if v is not None}
        card = validate_card(merged, local=self._settings.is_local)
        check_package_source(card, package_source(record.card), packaged=False)
        card = with_normal_name(card, local=self._settings.is_local)
        now = datetime.now(UTC)
        changed = record.with_card(card, now)
        if changed.card_json == record.card_json:
            return full_view(record)
        revet = lifecycle.revets(record.card, changed.card)
        status = lifecycle.after_card_change(record.status, revet=revet)
        event = None
        if status is not record.status:
            reason = lifecycle.card_change_reason(revet=revet)
            changed = changed.with_status(status, reason, now)
            event = StatusEvent.new(record.status, status, reason, SELF, user.uid, now)
        requeue = status is AgentStatus.PENDING_VETTING and (revet or event is not None)
        await self._write(
            record,
            changed,
            enqueue=QueueEntry.of(changed, now) if requeue else None,
            event=event,
            names=await self._names.for_change(record, changed, now),
        )
        return full_view(changed)

    async def delete(self, user: UserIdentity, agent_id: str) -> None:
        """Owner or admin: the agent, its queue entry and its idempotency key go."""
        require_user(user)
        record = await self._visible(user, agent_id)
        if not (user.admin or is_owner(user, record)):
            raise Forbidden(
                "Only the owner or an admin can delete this agent", code="NOT_AGENT_OWNER"
            )
        try:
            await self._repo.delete(record)
        finally:
            self._reads.discard(agent_id)  # also when the outcome is unknown (a timeout)
            self._changed(agent_id)
        await self._cache.invalidate()

    async def change_status(self, service: str, agent_id: str, change: StatusChange) -> AgentView:
        """A transition of the state machine, recorded with who, when and why."""
        record = await self._get(agent_id)
        lifecycle.check_transition(record.status, change.status)
        now = datetime.now(UTC)
        changed = record.with_status(change.status, change.reason, now)
        event = StatusEvent.new(
            record.status, change.status, change.reason, service, change.actor_uid, now
        )
        pending = change.status is AgentStatus.PENDING_VETTING
        await self._write(
            record,
            changed,
            enqueue=QueueEntry.of(changed, now) if pending else None,
            dequeue=record.status is AgentStatus.PENDING_VETTING,
            event=event,
            names=await self._names.for_change(record, changed, now),
        )
        return full_view(changed)

    async def _write(
        self,
        before: AgentRecord,
        after: AgentRecord,
        *,
        enqueue: QueueEntry | None = None,
        dequeue: bool = False,
        event: StatusEvent | None = None,
        names: tuple[NameClaim, ...] = (),
    ) -> None:
        try:
            await self._repo.update(
                before, after, enqueue=enqueue, dequeue=dequeue, event=event, names=names
            )
        except StaleWrite:
            if names:  # perhaps the name was taken meanwhile: say so (409) if it was
                await self._names.plan(after.owner_uid, str(after.card["name"]), after.updated_at)
            raise Conflict(
                "The agent changed while this request ran; retry", code="AGENT_CHANGED"
            ) from None
        finally:
            self._reads.discard(before.id)  # changed here, or (StaleWrite) elsewhere
        self._changed(after.id)
        await self._cache.invalidate()
        if enqueue is not None:
            self._submitted(after)

    def _submitted(self, record: AgentRecord) -> None:
        """Vetting queues the scan of a new or resubmitted card (beside the answer)."""
        if self._notices is not None:
            self._notices.submitted(record.id, record.digest)

    def _changed(self, agent_id: str) -> None:
        """The tool catalog syncs the agent's tools (beside the answer)."""
        if self._notices is not None:
            self._notices.changed(agent_id)

    async def _get(self, agent_id: str, *, cached: bool = False) -> AgentRecord:
        """From Firestore; `cached` (public reads only) allows the short read cache."""
        if not valid_agent_id(agent_id):
            raise AgentNotFound()
        record = await (self._reads.get(agent_id) if cached else self._repo.get(agent_id))
        if record is None:
            raise AgentNotFound()
        return record

    async def _visible(
        self, user: UserIdentity, agent_id: str, *, cached: bool = False
    ) -> AgentRecord:
        """The agent if this user may see it; 404 otherwise, so existence is not revealed."""
        record = await self._get(agent_id, cached=cached)
        if not may_see(user, record):
            raise AgentNotFound()
        return record
