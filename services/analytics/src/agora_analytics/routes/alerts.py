"""Anomaly alerts: list and acknowledge (admins); run the check (scheduler or admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query

from agora_analytics.models import AckRequest, Alert, AlertCheck
from agora_analytics.routes.deps import Alerts, Scheduler
from agora_common.audit import Actor
from agora_common.identity import AdminUser

router = APIRouter(tags=["alerts"])
AlertId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/alerts", response_model=list[Alert], summary="Alerts, newest first (admins)")
async def list_alerts(
    _: AdminUser,
    alerts: Alerts,
    status: Literal["open", "acked"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Alert]:
    return await alerts.list(status, limit)


@router.post(
    "/alerts/{alert_id}/ack", response_model=Alert, summary="Acknowledge an alert (admins)"
)
async def ack_alert(
    alert_id: AlertId,
    admin: AdminUser,
    alerts: Alerts,
    body: Annotated[AckRequest | None, Body()] = None,
) -> Alert:
    """Recorded in the audit log; a later spike on the same agent opens a new alert."""
    return await alerts.ack(alert_id, Actor.user(admin), body.note if body else None)


@router.post("/alerts/check", response_model=AlertCheck, summary="Run the anomaly check (admins)")
async def check_now(_: AdminUser, alerts: Alerts) -> AlertCheck:
    return await alerts.check()


@router.post(
    "/internal/alerts/check",
    response_model=AlertCheck,
    tags=["internal"],
    summary="Run the anomaly check (Cloud Scheduler's identity only)",
)
async def scheduled_check(_: Scheduler, alerts: Alerts) -> AlertCheck:
    return await alerts.check()
