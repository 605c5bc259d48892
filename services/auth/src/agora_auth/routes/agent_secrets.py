"""Agents' signing secrets: made and read by the executor's identity only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from agora_auth.container import AuthContainer
from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.settings import AuthSettings
from agora_common.app import provide
from agora_common.identity import services_only

router = APIRouter(prefix="/internal/agent-secrets", tags=["internal"])
NO_STORE = {"Cache-Control": "no-store"}
AgentId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
SecretReader = Annotated[str, Depends(services_only(*AuthSettings.key_reader_services))]
Store = Annotated[AgentSecrets, Depends(provide(AuthContainer, lambda c: c.agent_secrets))]


class AgentSecret(BaseModel):
    agent_id: str
    secret: str
    # The secret before the last deploy, while the old revision may still be serving.
    previous: str | None = None


@router.post("/{agent_id}", response_model=AgentSecret, summary="A pending secret for a deploy")
async def issue(
    agent_id: AgentId, _: SecretReader, store: Store, response: Response
) -> AgentSecret:
    """Handed to the agent's runtime; it becomes current only when promoted."""
    response.headers.update(NO_STORE)
    return AgentSecret(agent_id=agent_id, secret=await store.issue(agent_id))


@router.post(
    "/{agent_id}/promote", status_code=204, summary="The deploy succeeded: pending becomes current"
)
async def promote(agent_id: AgentId, _: SecretReader, store: Store) -> Response:
    await store.promote(agent_id)
    return Response(status_code=204)


@router.get("/{agent_id}", response_model=AgentSecret, summary="The current and previous secret")
async def reveal(
    agent_id: AgentId, _: SecretReader, store: Store, response: Response
) -> AgentSecret:
    response.headers.update(NO_STORE)
    current, previous = await store.reveal(agent_id)
    return AgentSecret(agent_id=agent_id, secret=current, previous=previous)
