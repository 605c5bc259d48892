"""Metrics (owners and admins), costs (everyone their own; admins all), the dashboard (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from agora_analytics.models import Costs, Dashboard, Metrics, Window
from agora_analytics.routes.deps import Alerts, Reads
from agora_common.errors import Forbidden
from agora_common.identity import AdminUser, HumanUser

router = APIRouter(tags=["metrics"])
AgentId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get(
    "/metrics/{agent_id}", response_model=Metrics, summary="An agent's metrics (owner or admin)"
)
async def agent_metrics(
    agent_id: AgentId, user: HumanUser, reads: Reads, window: Window = Window.DAY
) -> Metrics:
    """Calls, success rate, p50/p95 duration, errors by code, and time buckets (5 min for 1h,
    1 h for 24h, 6 h for 7d, 1 day for 30d)."""
    return await reads.agent_metrics(user, agent_id, window)


@router.get("/costs", response_model=Costs, summary="What executions cost")
async def costs(
    user: HumanUser,
    reads: Reads,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
    scope: Literal["own", "all"] = "own",
) -> Costs:
    """`own`: the caller's executions. `all` (admins): every user's, by user, agent and day."""
    if scope == "all" and not user.admin:
        raise Forbidden("Only admins see everyone's costs", code="ADMIN_REQUIRED")
    return await reads.costs(user, days, everyone=scope == "all")


@router.get("/dashboard", response_model=Dashboard, summary="The platform at a glance (admins)")
async def dashboard(_: AdminUser, reads: Reads, alerts: Alerts) -> Dashboard:
    """The last 24 hours: totals, executions per hour, error rate, top agents, open alerts."""
    return await reads.dashboard(await alerts.list("open", 50))
