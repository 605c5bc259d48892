"""What the executor asks other services: agents (registry), secrets and keys (auth)."""

from __future__ import annotations

import time
from urllib.parse import quote

from agora_common.cache import ExpiringCache
from agora_common.errors import BadGateway, NotFound
from agora_common.iam.client import ServiceClient
from agora_common.models import AgentView, KeyProvider


class AgentNotFound(NotFound):
    code, message = "AGENT_NOT_FOUND", "Agent not found"


class AgentDirectory:
    """Agents with their owner fields, reused for a few seconds (a status change takes at most
    that long to reach executions)."""

    def __init__(self, services: ServiceClient, *, ttl_s: float) -> None:
        self._services = services
        self._ttl_s = ttl_s
        self._agents: ExpiringCache[AgentView] = ExpiringCache(4096)

    async def get(self, agent_id: str, *, fresh: bool = False) -> AgentView:
        agent = None if fresh else self._agents.get(agent_id)
        if agent is None:
            path = f"/internal/agents/{agent_id}"
            response = await self._services.request("registry", "GET", path)
            if response.status_code == 404:
                raise AgentNotFound()
            if response.status_code != 200:
                raise BadGateway("The registry could not answer for this agent")
            agent = AgentView.model_validate_json(response.content)
            if self._ttl_s:
                self._agents.put(agent_id, agent, time.time() + self._ttl_s)
        return agent

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


class MissingProviderKey(NotFound):
    code = "PROVIDER_KEY_MISSING"


class Secrets:
    """Agents' call-signing secrets and users' provider keys, both kept encrypted by auth."""

    def __init__(self, services: ServiceClient, *, ttl_s: float) -> None:
        self._services = services
        self._ttl_s = ttl_s
        self._agent_secrets: ExpiringCache[str] = ExpiringCache(4096)

    async def agent_secret(self, agent_id: str) -> str:
        secret = self._agent_secrets.get(agent_id)
        if secret is None:
            response = await self._services.request(
                "auth", "GET", f"/internal/agent-secrets/{agent_id}"
            )
            if response.status_code != 200:
                raise BadGateway("The agent's signing secret is unavailable")
            secret = str(response.json()["secret"])
            self._agent_secrets.put(agent_id, secret, time.time() + max(self._ttl_s, 60))
        return secret

    async def new_agent_secret(self, agent_id: str) -> str:
        """A fresh secret for a (re)deployment; the previous one stops working."""
        response = await self._services.request(
            "auth", "POST", f"/internal/agent-secrets/{agent_id}"
        )
        if response.status_code != 200:
            raise BadGateway("Could not create the agent's signing secret")
        secret = str(response.json()["secret"])
        self._agent_secrets.put(agent_id, secret, time.time() + max(self._ttl_s, 60))
        return secret

    async def provider_key(self, uid: str, provider: str) -> str:
        """The caller's own key for `provider`, for one call; never stored here."""
        provider = KeyProvider(provider).value  # the card was checked; never trust it blindly
        path = f"/internal/api-keys/{quote(uid, safe='')}/{provider}"
        response = await self._services.request("auth", "GET", path)
        if response.status_code == 404:
            raise MissingProviderKey(
                f"This agent needs your {provider} API key; add it with PATCH /auth/user/api-keys"
            )
        if response.status_code != 200:
            raise BadGateway("Your provider key is unavailable right now")
        return str(response.json()["api_key"])
