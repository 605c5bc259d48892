"""The admins' queue and decisions; the owner's view of the current decision and latest scan."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from agora_common.audit import Actor
from agora_common.errors import ValidationFailed
from agora_common.identity import AdminUser, HumanUser
from agora_vetting.models import (
    ApproveRequest,
    Decision,
    OwnerWebhook,
    QueuePage,
    ReasonRequest,
    ScanQueued,
    ScanReceipt,
    WebhookRequest,
)
from agora_vetting.routes.deps import OwnerHooks, Vetting

router = APIRouter(tags=["vetting"])
AgentId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


@router.put("/webhook", response_model=OwnerWebhook, summary="Your webhook for decisions")
async def set_webhook(body: WebhookRequest, user: HumanUser, hooks: OwnerHooks) -> OwnerWebhook:
    """Decisions on your agents are posted here, signed with the secret answered now (and never
    again): `X-Agora-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    assert user.uid is not None
    return await hooks.set(user.uid, body.url)


@router.get("/webhook", response_model=OwnerWebhook, summary="Your webhook (secret masked)")
async def get_webhook(user: HumanUser, hooks: OwnerHooks) -> OwnerWebhook:
    assert user.uid is not None
    return await hooks.get(user.uid)


@router.delete("/webhook", status_code=204, summary="Remove your webhook")
async def delete_webhook(user: HumanUser, hooks: OwnerHooks) -> Response:
    assert user.uid is not None
    await hooks.delete(user.uid)
    return Response(status_code=204)


@router.get("/queue", response_model=QueuePage, summary="Submissions pending vetting (admins)")
async def queue(
    _: AdminUser,
    vetting: Vetting,
    verdict: Literal["clean", "findings", "inconclusive"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> QueuePage:
    """Oldest first, each with its latest scan receipt; `next_cursor` pages on."""
    after = None
    if cursor is not None:
        try:
            after = datetime.fromisoformat(cursor)
        except ValueError:
            raise ValidationFailed(
                details=[{"path": "$.cursor", "message": "not a cursor"}]
            ) from None
    return await vetting.queue(after, limit, verdict)


@router.post(
    "/{agent_id}/scan", response_model=ScanQueued, status_code=202, summary="Scan now (admins)"
)
async def scan(agent_id: AgentId, admin: AdminUser, vetting: Vetting) -> ScanQueued:
    return await vetting.request_scan(agent_id, Actor.user(admin))


@router.get(
    "/{agent_id}/scan", response_model=ScanReceipt, summary="The latest scan (owner, admins)"
)
async def latest_scan(agent_id: AgentId, user: HumanUser, vetting: Vetting) -> ScanReceipt:
    """As the decision: the owner and admins; 404 to others for an agent they may not see."""
    return await vetting.receipt(user, agent_id)


@router.post("/{agent_id}/approve", response_model=Decision, summary="Approve and deploy (admins)")
async def approve(
    agent_id: AgentId, body: ApproveRequest, admin: AdminUser, vetting: Vetting
) -> Decision:
    """pending-vetting → vetted → deployed → active. A failed deploy is 502 DEPLOY_FAILED and
    leaves the agent vetted with the error recorded; approving again retries the deploy."""
    return await vetting.approve(agent_id, Actor.user(admin), body)


@router.post("/{agent_id}/reject", response_model=Decision, summary="Reject (admins)")
async def reject(
    agent_id: AgentId, body: ReasonRequest, admin: AdminUser, vetting: Vetting
) -> Decision:
    return await vetting.reject(agent_id, Actor.user(admin), body.reason)


@router.post("/{agent_id}/suspend", response_model=Decision, summary="Suspend (admins)")
async def suspend(
    agent_id: AgentId, body: ReasonRequest, admin: AdminUser, vetting: Vetting
) -> Decision:
    return await vetting.suspend(agent_id, Actor.user(admin), body.reason)


@router.post("/{agent_id}/reinstate", response_model=Decision, summary="Reinstate (admins)")
async def reinstate(
    agent_id: AgentId, body: ReasonRequest, admin: AdminUser, vetting: Vetting
) -> Decision:
    return await vetting.reinstate(agent_id, Actor.user(admin), body.reason)


@router.get(
    "/{agent_id}/decision", response_model=Decision, summary="The current decision (owner, admins)"
)
async def decision(agent_id: AgentId, user: HumanUser, vetting: Vetting) -> Decision:
    return await vetting.decision(user, agent_id)
