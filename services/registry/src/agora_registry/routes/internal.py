"""Internal routes: status changes by the vetting and executor services only."""

from __future__ import annotations

from fastapi import APIRouter

from agora_common.models import AgentView, StatusChange
from agora_registry.routes.deps import Registry, StatusChanger

router = APIRouter(prefix="/internal", tags=["internal"])


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
