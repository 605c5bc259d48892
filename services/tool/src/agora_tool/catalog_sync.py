"""Keeping the catalog in step with the registry: one agent at a time, and a periodic reconcile.

The registry tells this service an agent changed (beside its answer); this service then reads
the agent from the registry itself and brings its tools' entries in line:

- an active agent's tools are listed, and its card's version of each tool is published (once:
  versions are immutable), becoming the entry's current version;
- an agent in any other status keeps its entries, under that status: they leave the public
  catalog (suspended, rejected, back in vetting) and come back when it is active again;
- a deleted agent's entries, and tools its card no longer lists, become `removed`.

Both ways are idempotent: a sync reads what is and writes what follows from it. The reconcile
repairs a lost notice: it syncs every active agent, and every agent the public catalog still
lists that is no longer active.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime

from agora_common.agents import AgentDirectory, AgentNotFound
from agora_common.answer_cache import AnswerCache
from agora_common.models import AgentStatus, AgentView, card_digest
from agora_tool.records import (
    PUBLIC,
    REMOVED,
    ToolContent,
    ToolEntry,
    ToolVersion,
    canonical_json,
    tool_id_of,
    version_key,
)
from agora_tool.repository import ToolRepository, VersionExists

log = logging.getLogger("agora.tool.sync")


class CatalogSync:
    def __init__(
        self, repository: ToolRepository, agents: AgentDirectory, cache: AnswerCache
    ) -> None:
        self._repo = repository
        self._agents = agents
        self._cache = cache

    async def sync(self, agent_id: str) -> list[ToolEntry]:
        """Bring one agent's entries in line with the registry; the entries as now stored."""
        try:
            agent: AgentView | None = await self._agents.get(agent_id, fresh=True)
        except AgentNotFound:
            agent = None
        stored = {entry.tool_id: entry for entry in await self._repo.of_agent(agent_id)}
        now = datetime.now(UTC)
        if agent is None:
            wanted = [entry.with_status(REMOVED, now) for entry in stored.values()]
        else:
            wanted = await self._follow(agent, stored, now)
        changed = [entry for entry in wanted if entry != stored.get(entry.tool_id)]
        await self._repo.put(changed)
        if changed:
            await self._cache.invalidate()
        return wanted

    async def _follow(
        self, agent: AgentView, stored: dict[str, ToolEntry], now: datetime
    ) -> list[ToolEntry]:
        card = agent.card
        listed: dict[str, ToolEntry] = {}
        for tool in card.get("tools", []):
            tool_id = tool_id_of(agent.id, str(tool["name"]))
            before = stored.get(tool_id)
            if agent.status is AgentStatus.ACTIVE:
                listed[tool_id] = await self._publish(agent, tool, before, now)
            elif before is not None and before.versions:
                # Published before: what callers knew stays, out of the public catalog.
                listed[tool_id] = before.with_status(agent.status.value, now)
            else:  # not public yet: its owner and admins see it, with nothing published
                entry = _entry(agent, tool, before, now, versions=())
                listed[tool_id] = before if before and _same_listing(before, entry) else entry
        gone = [
            entry.with_status(REMOVED, now) for tid, entry in stored.items() if tid not in listed
        ]
        return [*listed.values(), *gone]

    async def _publish(
        self, agent: AgentView, tool: dict[str, object], before: ToolEntry | None, now: datetime
    ) -> ToolEntry:
        card = agent.card
        version = str(card["version"])
        content = ToolContent.from_card_tool(dict(tool), card_digest=_card_digest(agent))
        tool_id = tool_id_of(agent.id, str(tool["name"]))
        conflict: str | None = None
        try:
            await self._repo.publish(tool_id, ToolVersion(version, content, published_at=now))
        except VersionExists:
            # The live card reuses a published version with other content: the published one
            # stays what the catalog shows, and the entry says why nothing changed.
            conflict = (
                f"the agent's card changed this tool without a new version ({version}); "
                "publish it under a new version"
            )
            log.warning("tool version reused", extra={"tool_id": tool_id, "version": version})
        if conflict is not None and before is not None:
            return replace(
                before.with_status(PUBLIC, now), version_conflict=conflict, updated_at=now
            )
        if conflict is not None:
            stored = await self._repo.get_version(tool_id, version)
            content = stored.content if stored is not None else content
        versions = tuple(sorted({*(before.versions if before else ()), version}, key=version_key))
        entry = replace(
            _entry(agent, tool, before, now, versions=versions),
            content=content,
            version_conflict=conflict,
        )
        if before is not None and _same_listing(before, entry):
            return before
        return entry

    async def reconcile(self) -> int:
        """Sync every active agent and every agent still listed publicly; how many were synced."""
        listed = await self._repo.public_agent_ids()
        synced = 0
        async for agent in self._agents.every(AgentStatus.ACTIVE):
            listed.discard(agent.id)
            await self.sync(agent.id)
            synced += 1
        for agent_id in sorted(listed):  # listed publicly, but no longer active
            await self.sync(agent_id)
            synced += 1
        return synced

    async def run_every(self, interval_s: float, *, first_after_s: float = 1.0) -> None:
        """The reconcile as a loop (local mode; Cloud Scheduler calls the route in production)."""
        await asyncio.sleep(first_after_s)
        while True:
            try:
                count = await self.reconcile()
                log.info("catalog reconciled", extra={"agents": count})
            except Exception as exc:  # the next round tries again
                log.warning("catalog reconcile failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(interval_s)


def _entry(
    agent: AgentView,
    tool: dict[str, object],
    before: ToolEntry | None,
    now: datetime,
    *,
    versions: tuple[str, ...],
) -> ToolEntry:
    """The entry as the agent's card describes the tool now, in the agent's status."""
    card = agent.card
    return ToolEntry(
        tool_id=tool_id_of(agent.id, str(tool["name"])),
        name=str(tool["name"]),
        agent_id=agent.id,
        agent_name=str(card["name"]),
        owner_uid=agent.owner_uid or (before.owner_uid if before else ""),
        tags=tuple(str(t) for t in card.get("tags", [])),
        status=agent.status.value,
        current_version=str(card["version"]),
        content=ToolContent.from_card_tool(dict(tool), card_digest=_card_digest(agent)),
        versions=versions,
        created_at=before.created_at if before else now,
        updated_at=now,
    )


def _card_digest(agent: AgentView) -> str:
    """The registry's digest of the card: the card is stored in canonical JSON already."""
    return card_digest(canonical_json(agent.card))


def _same_listing(before: ToolEntry, after: ToolEntry) -> bool:
    """Nothing a reader sees changed (the times aside)."""
    return replace(after, created_at=before.created_at, updated_at=before.updated_at) == before
