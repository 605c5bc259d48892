"""Internal routes: the registry's change notices and the scheduled reconcile."""

from __future__ import annotations

from fastapi import APIRouter

from agora_tool.models import ReconcileResult, SyncResult
from agora_tool.routes.deps import Reconciler, Sync, SyncNotifier

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post(
    "/agents/{agent_id}/sync",
    response_model=SyncResult,
    summary="An agent changed: bring its tools' entries in line (registry only; idempotent)",
)
async def sync_agent(agent_id: str, _: SyncNotifier, sync: Sync) -> SyncResult:
    entries = await sync.sync(agent_id)
    return SyncResult(agent_id=agent_id, tools=[entry.tool_id for entry in entries])


@router.post(
    "/reconcile",
    response_model=ReconcileResult,
    summary="Sync every active agent and every one still listed (Cloud Scheduler only)",
)
async def reconcile(_: Reconciler, sync: Sync) -> ReconcileResult:
    return ReconcileResult(agents=await sync.reconcile())
