"""Custom tokens that let an active agent sign in to the platform as itself."""

from __future__ import annotations

from agora_auth.firebase_users import FirebaseUsers
from agora_auth.models import AgentToken
from agora_common.audit import Actor, AuditLog
from agora_common.errors import BadGateway, Conflict, Forbidden, NotFound
from agora_common.iam.client import ServiceClient
from agora_common.models import AgentStatus, AgentView, CallerKind, UserIdentity

AGENT_ROLE = "agent"


class AgentNotFound(NotFound):
    code, message = "AGENT_NOT_FOUND", "Agent not found"


class AgentNotActive(Conflict):
    code, message = "AGENT_NOT_ACTIVE", "Only an active agent can get a token"


def agent_uid(hash_id: str) -> str:
    """The Firebase uid an agent signs in as."""
    return f"agent:{hash_id}"


class AgentTokenService:
    def __init__(self, users: FirebaseUsers, services: ServiceClient, audit: AuditLog) -> None:
        self._users = users
        self._services = services
        self._audit = audit

    async def _agent(self, agent_id: str) -> AgentView:
        response = await self._services.request("registry", "GET", f"/internal/agents/{agent_id}")
        if response.status_code == 404:
            raise AgentNotFound()
        if response.status_code != 200:
            raise BadGateway("The registry could not answer for this agent")
        return AgentView.model_validate_json(response.content)

    async def issue(self, user: UserIdentity, agent_id: str) -> AgentToken:
        """For the owner of an active agent only; others learn no more than the registry shows."""
        agent = await self._agent(agent_id)
        if agent.owner_uid != user.uid or user.kind is not CallerKind.USER:
            if agent.status is not AgentStatus.ACTIVE:
                raise AgentNotFound()  # as the registry answers them for an agent they can't see
            raise Forbidden("Only the agent's owner can get its token", code="NOT_AGENT_OWNER")
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentNotActive()
        uid = agent_uid(agent.hash_id)
        claims = {"role": AGENT_ROLE, "agent_id": agent.id, "owner_uid": agent.owner_uid}
        token = await self._users.custom_token(uid, claims)
        await self._audit.record(
            "agent.token_issued", Actor.user(user), {"agent_id": agent.id, "uid": uid}
        )
        return AgentToken(custom_token=token, uid=uid, agent_id=agent.id)
