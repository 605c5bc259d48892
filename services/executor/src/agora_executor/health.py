"""Agent health: a probe of the agent's `/health` under the egress rules, cached in Redis.

The answer says healthy or unhealthy, never the remote status code or why a connection failed:
relayed, those would turn the probe into a scanner of whatever the URL names.

An MCP agent (`protocol: "mcp"`) is probed with tools/list instead. When the tools it lists are
no longer the card's (what vetting approved: names, descriptions, input schemas), the agent goes
back to pending-vetting and the answer is unhealthy with `TOOLS_CHANGED`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx
import redis.asyncio as aioredis

from agora_common.agents import AgentDirectory
from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError
from agora_common.mcp_remote import McpCallFailed, McpRemote, same_tools_as_card
from agora_common.models import AgentStatus, AgentView, speaks_mcp
from agora_executor.models import AgentHealth

log = logging.getLogger("agora.executor.health")
PROBE_TIMEOUT_S = 5.0
MAX_TOOL_LIST_BYTES = 1024 * 1024


class HealthProbe:
    def __init__(
        self,
        http: httpx.AsyncClient,
        guard: EgressGuard,
        redis: aioredis.Redis,
        *,
        ttl_s: int,
        directory: AgentDirectory | None = None,
    ) -> None:
        self._directory = directory  # to send an MCP agent whose tools changed back to vetting
        self._mcp = McpRemote(http, guard)
        self._http = http  # the guarded client (agora_common.egress_client)
        self._guard = guard
        self._redis = redis
        self._ttl_s = ttl_s

    async def health(self, agent: AgentView, url: str) -> AgentHealth:
        key = f"agent_health:{agent.id}"
        cached = await self._cached(key)
        if cached is not None:
            return cached.model_copy(update={"cached": True})
        if speaks_mcp(agent.card):
            report = await self._probe_mcp(agent, url)
        else:
            report = await self._probe(agent.id, url)
        try:
            await self._redis.set(key, report.model_dump_json(), ex=self._ttl_s)
        except Exception as exc:  # a cache, not a dependency: answer without it
            log.warning("health cache write failed", extra={"error": type(exc).__name__})
        return report

    async def _cached(self, key: str) -> AgentHealth | None:
        try:
            raw = await self._redis.get(key)
        except Exception as exc:
            log.warning("health cache read failed", extra={"error": type(exc).__name__})
            return None
        if not raw:
            return None
        try:
            return AgentHealth.model_validate_json(raw)
        except ValueError:  # written by an older version: probe again
            return None

    async def _probe_mcp(self, agent: AgentView, url: str) -> AgentHealth:
        started = time.perf_counter()
        healthy = False
        error: str | None = None
        try:
            tools = await self._mcp.list_tools(
                url, timeout_s=PROBE_TIMEOUT_S, max_bytes=MAX_TOOL_LIST_BYTES
            )
            healthy = same_tools_as_card(agent.card.get("tools") or [], tools)
            if not healthy:
                error = "TOOLS_CHANGED"
                await self._back_to_vetting(agent)
        except AgoraError as exc:
            error = exc.code if exc.code == "EGRESS_REFUSED" else "UNREACHABLE"
        except McpCallFailed:
            error = "UNREACHABLE"
        return AgentHealth(
            agent_id=agent.id,
            healthy=healthy,
            status="healthy" if healthy else "unhealthy",
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            error=error,
            checked_at=datetime.now(UTC),
        )

    async def _back_to_vetting(self, agent: AgentView) -> None:
        if self._directory is None or agent.status is not AgentStatus.ACTIVE:
            return
        log.warning("an MCP agent's tools changed", extra={"agent_id": agent.id})
        try:
            await self._directory.set_status(
                agent.id,
                AgentStatus.PENDING_VETTING.value,
                "the MCP server's tool list changed since it was vetted",
                None,
            )
        except AgoraError as exc:  # moved meanwhile (a stale read): the answer still says so
            log.warning("could not send the agent back to vetting", extra={"error": exc.code})

    async def _probe(self, agent_id: str, url: str) -> AgentHealth:
        started = time.perf_counter()
        healthy = False
        error: str | None = None
        try:
            self._guard.check_url(url)
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                response = await self._http.get(f"{url.rstrip('/')}/health")
            healthy = response.status_code == 200
        except AgoraError as exc:
            error = exc.code if exc.code == "EGRESS_REFUSED" else "UNREACHABLE"
        except (ValueError, UnicodeError):
            error = "EGRESS_REFUSED"
        except (TimeoutError, httpx.HTTPError):
            error = "UNREACHABLE"
        return AgentHealth(
            agent_id=agent_id,
            healthy=healthy,
            status="healthy" if healthy else "unhealthy",
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            error=error,
            checked_at=datetime.now(UTC),
        )
