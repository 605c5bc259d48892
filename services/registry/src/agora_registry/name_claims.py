"""The naming rule: no owner may take a name that looks like another owner's agent's name."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from agora_common.errors import Conflict
from agora_registry import lifecycle
from agora_registry.names import name_keys
from agora_registry.records import AgentRecord, NameClaim
from agora_registry.repository import AgentRepository

# Reservations written at once while agents stored before the rule get theirs.
_BACKFILL_CONCURRENCY = 32


class AgentNameTaken(Conflict):
    code = "AGENT_NAME_TAKEN"
    message = (
        "This name, or one that looks the same to a reader, is already used by another owner's "
        "agent; choose another name"
    )


class NameClaims:
    """Plans the name claims of a write; the repository commits them with the agent.

    A claim (agent_names/{sha256 of key}) names an owner. It holds only while that owner has an
    agent whose name has the key and whose status holds a name (lifecycle.HOLDS_NAME); a claim
    that holds nothing (its agent was deleted, rejected or renamed) is taken over by the next
    owner, with a write conditional on the claim being unchanged since it was read.
    """

    def __init__(self, repository: AgentRepository) -> None:
        self._repo = repository
        self._backfilled = False
        self._backfill_lock = asyncio.Lock()

    async def plan(self, owner_uid: str, name: str, now: datetime) -> tuple[NameClaim, ...]:
        """The claims `owner_uid` writes for `name`; AgentNameTaken when another owner holds it."""
        await self._ensure_backfilled()
        keys = sorted(name_keys(name))
        stored = await self._repo.name_claims(keys)
        holders: dict[str, set[str]] = {}
        claims: list[NameClaim] = []
        for key in keys:
            current = stored.get(key)
            if current is not None and current.owner_uid != owner_uid:
                if current.owner_uid not in holders:
                    holders[current.owner_uid] = await self._held_keys(current.owner_uid)
                if key in holders[current.owner_uid]:
                    raise AgentNameTaken()
            update_time = current.update_time if current is not None else None
            claims.append(NameClaim(key, owner_uid, now, update_time))
        return tuple(claims)

    async def for_change(
        self, before: AgentRecord, after: AgentRecord, now: datetime
    ) -> tuple[NameClaim, ...]:
        """The claims a change needs: when the agent takes up a name it did not hold before."""
        if not lifecycle.holds_name(after.status):
            return ()
        name = str(after.card["name"])
        same = name_keys(name) == name_keys(str(before.card["name"]))
        if lifecycle.holds_name(before.status) and same:
            return ()
        return await self.plan(after.owner_uid, name, now)

    async def _held_keys(self, owner_uid: str) -> set[str]:
        """Every name key one owner's agents hold now."""
        held: set[str] = set()
        for _, name, status in await self._repo.agent_names(owner_uid):
            if lifecycle.holds_name(status):
                held |= name_keys(name)
        return held

    async def _ensure_backfilled(self) -> None:
        """Agents stored before the rule get their claims once, before any new claim is made.

        Every instance checks the marker once; until it is written, each instance that needs a
        name runs the (idempotent) backfill itself, so no claim is ever made while an older
        agent's name is unclaimed.
        """
        if self._backfilled:
            return
        async with self._backfill_lock:
            if self._backfilled:
                return
            if not await self._repo.names_backfilled():
                await self._backfill()
                await self._repo.mark_names_backfilled(datetime.now(UTC))
            self._backfilled = True

    async def _backfill(self) -> None:
        now = datetime.now(UTC)
        claims = [
            NameClaim(key, owner_uid, now)
            for owner_uid, name, status in await self._repo.agent_names()
            if lifecycle.holds_name(status)
            for key in name_keys(name)
        ]
        for start in range(0, len(claims), _BACKFILL_CONCURRENCY):
            chunk = claims[start : start + _BACKFILL_CONCURRENCY]
            await asyncio.gather(*(self._repo.claim_if_unclaimed(claim) for claim in chunk))
