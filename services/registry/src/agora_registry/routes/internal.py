"""Internal routes: reads and status changes for the platform's own services only."""

from __future__ import annotations

from fastapi import APIRouter

from agora_common.models import AgentView, StatusChange
from agora_registry.routes.deps import AgentReader, Registry, StatusChanger

router = APIRouter(prefix="/internal", tags=["internal"])


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
