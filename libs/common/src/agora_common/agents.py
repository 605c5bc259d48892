"""Agents as the platform's own services read them: from the registry's internal routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agora_common.cache import ReadThrough
from agora_common.errors import BadGateway, Forbidden, NotFound
from agora_common.iam.client import ServiceClient
from agora_common.models import AgentPage, AgentStatus, AgentView, UserIdentity, may_see_agent


class AgentNotFound(NotFound):
    code, message = "AGENT_NOT_FOUND", "Agent not found"


class AgentDirectory:
    """Agents with their owner fields, reused for a few seconds (a status change takes at most
    that long to reach executions, or `stale_s` more while the registry is slow to answer) and
    refreshed ahead of expiry while traffic flows."""

    def __init__(self, services: ServiceClient, *, ttl_s: float, stale_s: float = 0.0) -> None:
        self._services = services
        self._agents: ReadThrough[AgentView] = ReadThrough(self._load, ttl_s=ttl_s, stale_s=stale_s)

    async def get(self, agent_id: str, *, fresh: bool = False) -> AgentView:
        return await self._agents.get(agent_id, fresh=fresh)

    async def _load(self, agent_id: str) -> AgentView:
        response = await self._services.request("registry", "GET", f"/internal/agents/{agent_id}")
        if response.status_code == 404:
            raise AgentNotFound()
        if response.status_code != 200:
            raise BadGateway("The registry could not answer for this agent")
        return AgentView.model_validate_json(response.content)

    async def every(self, status: AgentStatus, *, page: int = 100) -> AsyncIterator[AgentView]:
        """Every agent of one status, read a page at a time from the registry."""
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"status": status.value, "limit": page}
            if cursor is not None:
                params["cursor"] = cursor
            response = await self._services.request(
                "registry", "GET", "/internal/agents", params=params
            )
            if response.status_code != 200:
                raise BadGateway("The registry could not list agents")
            listed = AgentPage.model_validate_json(response.content)
            for agent in listed.items:
                yield agent
            if listed.next_cursor is None:
                return
            cursor = listed.next_cursor

    async def set_status(
        self, agent_id: str, status: str, reason: str, actor_uid: str | None
    ) -> AgentView:
        body = {"status": status, "reason": reason, "actor_uid": actor_uid}
        path = f"/internal/agents/{agent_id}/status"
        response = await self._services.request("registry", "POST", path, json=body)
        if response.status_code != 200:
            raise BadGateway("The registry refused the status change")
        self._agents.clear()
        return AgentView.model_validate_json(response.content)


def require_owner_or_admin(user: UserIdentity, agent: AgentView, message: str) -> None:
    """The agent's owner and admins pass. Anyone else gets 403 NOT_AGENT_OWNER for an agent
    they may see, and 404 for one they may not even know exists."""
    if user.admin or (user.uid is not None and user.uid == agent.owner_uid):
        return
    if not may_see_agent(user, agent.status, agent.owner_uid):
        raise AgentNotFound()
    raise Forbidden(message, code="NOT_AGENT_OWNER")
