"""Internal routes: reads and status changes for the platform's own services only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from agora_common.models import (
    AgentPage,
    AgentStatus,
    AgentView,
    CallerKind,
    RegistrationFor,
    StatusChange,
    UserIdentity,
)
from agora_registry.routes.agents import IdempotencyKey
from agora_registry.routes.deps import AgentReader, Registrar, Registry, StatusChanger

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post(
    "/agents",
    status_code=201,
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Register an agent for the user the calling service verified (tool service only)",
)
async def register_for(
    body: RegistrationFor,
    _: Registrar,
    registry: Registry,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AgentView:
    """The same rules as POST /register, with `owner_uid` as the owner; an Idempotency-Key
    makes a retried submission answer the agent it created (200)."""
    owner = UserIdentity(kind=CallerKind.USER, uid=body.owner_uid)
    agent, replayed = await registry.register(owner, body.card, idempotency_key, packaged=True)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return agent


@router.get(
    "/agents",
    response_model=AgentPage,
    response_model_exclude_none=True,
    summary="Whole agents of one status, a page at a time (the platform's readers only)",
)
async def list_agents(
    _: AgentReader,
    registry: Registry,
    status: AgentStatus = AgentStatus.ACTIVE,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> AgentPage:
    return await registry.list_for_service(status, cursor, limit)


@router.get(
    "/agents/{agent_id}",
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Any agent with its owner fields (auth, executor and vetting only)",
)
async def read_agent(agent_id: str, _: AgentReader, registry: Registry) -> AgentView:
    return await registry.get_for_service(agent_id)


@router.post(
    "/agents/{agent_id}/status",
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Move an agent along the status machine (vetting and executor only)",
)
async def change_status(
    agent_id: str, change: StatusChange, service: StatusChanger, registry: Registry
) -> AgentView:
    """409 INVALID_TRANSITION for a change the machine does not allow."""
    return await registry.change_status(service, agent_id, change)
