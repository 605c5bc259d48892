"""What the executor asks the auth service: agents' signing secrets and users' provider keys."""

from __future__ import annotations

from dataclasses import dataclass

from agora_common.cache import ReadThrough
from agora_common.errors import BadGateway
from agora_common.iam.client import ServiceClient
from agora_common.provider_keys import provider_key


@dataclass(frozen=True, slots=True)
class AgentSecret:
    current: str
    previous: str | None


class AuthSecrets:
    """Agents' call-signing secrets and users' provider keys, both kept encrypted by auth."""

    def __init__(self, services: ServiceClient, *, ttl_s: float, stale_s: float = 0.0) -> None:
        self._services = services
        self._agent_secrets: ReadThrough[AgentSecret] = ReadThrough(
            self._load_agent_secret, ttl_s=max(ttl_s, 60), stale_s=stale_s
        )

    async def agent_secrets(self, agent_id: str, *, fresh: bool = False) -> AgentSecret:
        """The secret to sign with, and the one before it (while an old revision drains)."""
        return await self._agent_secrets.get(agent_id, fresh=fresh)

    async def _load_agent_secret(self, agent_id: str) -> AgentSecret:
        response = await self._services.request(
            "auth", "GET", f"/internal/agent-secrets/{agent_id}"
        )
        if response.status_code == 404:
            # Never deployed by the platform (an agent hosted elsewhere): nothing to sign with.
            return AgentSecret("", None)
        if response.status_code != 200:
            raise BadGateway("The agent's signing secret is unavailable")
        body = response.json()
        return AgentSecret(str(body["secret"]), body.get("previous"))

    async def pending_agent_secret(self, agent_id: str) -> str:
        """A fresh secret for a (re)deployment; it signs calls only once promoted."""
        path = f"/internal/agent-secrets/{agent_id}"
        response = await self._services.request("auth", "POST", path)
        if response.status_code != 200:
            raise BadGateway("Could not create the agent's signing secret")
        return str(response.json()["secret"])

    async def promote_agent_secret(self, agent_id: str) -> None:
        path = f"/internal/agent-secrets/{agent_id}/promote"
        response = await self._services.request("auth", "POST", path)
        if response.status_code != 204:
            raise BadGateway("Could not put the agent's new signing secret in use")
        self._agent_secrets.discard(agent_id)  # read afresh next time

    async def provider_key(self, uid: str, provider: str) -> str:
        """The caller's own key for `provider`, for one call; never stored here."""
        return await provider_key(self._services, uid, provider, why="This agent")
