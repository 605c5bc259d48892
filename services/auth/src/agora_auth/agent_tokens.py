"""Custom tokens that let an active agent sign in to the platform as itself."""

from __future__ import annotations

from agora_auth.firebase_users import FirebaseUsers
from agora_auth.models import AgentToken
from agora_common.agents import AgentDirectory, AgentNotFound
from agora_common.audit import Actor, AuditLog
from agora_common.errors import Conflict, Forbidden
from agora_common.iam.client import ServiceClient
from agora_common.models import AgentStatus, CallerKind, UserIdentity

AGENT_ROLE = "agent"


class AgentNotActive(Conflict):
    code, message = "AGENT_NOT_ACTIVE", "Only an active agent can get a token"


def agent_uid(hash_id: str) -> str:
    """The Firebase uid an agent signs in as."""
    return f"agent:{hash_id}"


class AgentTokenService:
    def __init__(self, users: FirebaseUsers, services: ServiceClient, audit: AuditLog) -> None:
        self._users = users
        self._agents = AgentDirectory(services, ttl_s=0)  # always the registry's current answer
        self._audit = audit

    async def issue(self, user: UserIdentity, agent_id: str) -> AgentToken:
        """For the owner of an active agent only; others learn no more than the registry shows."""
        agent = await self._agents.get(agent_id)
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
