"""Agents' signing secrets: made and read by the executor's identity only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.settings import AuthSettings
from agora_common.app import from_state
from agora_common.identity import services_only

router = APIRouter(prefix="/internal/agent-secrets", tags=["internal"])
NO_STORE = {"Cache-Control": "no-store"}
AgentId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
SecretReader = Annotated[str, Depends(services_only(*AuthSettings.key_reader_services))]


class AgentSecret(BaseModel):
    agent_id: str
    secret: str


Store = Annotated[AgentSecrets, Depends(from_state("agent_secrets"))]


@router.post("/{agent_id}", response_model=AgentSecret, summary="A new signing secret")
async def issue(
    agent_id: AgentId, _: SecretReader, store: Store, response: Response
) -> AgentSecret:
    """Made at each deployment; the agent's runtime gets it, and it replaces the previous one."""
    response.headers.update(NO_STORE)
    return AgentSecret(agent_id=agent_id, secret=await store.issue(agent_id))


@router.get("/{agent_id}", response_model=AgentSecret, summary="The agent's signing secret")
async def reveal(
    agent_id: AgentId, _: SecretReader, store: Store, response: Response
) -> AgentSecret:
    response.headers.update(NO_STORE)
    return AgentSecret(agent_id=agent_id, secret=await store.reveal(agent_id))
