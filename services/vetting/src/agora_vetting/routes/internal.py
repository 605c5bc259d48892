"""Internal routes: submissions from the registry, and the scan task handler."""

from __future__ import annotations

from fastapi import APIRouter, Response

from agora_vetting.models import ScanQueued, ScanTicket, Submission
from agora_vetting.routes.deps import CloudTasks, Submitter, Vetting

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post(
    "/submissions",
    response_model=ScanQueued,
    status_code=202,
    summary="A new or resubmitted card: queue its scan (registry only)",
)
async def submitted(body: Submission, _: Submitter, vetting: Vetting) -> ScanQueued:
    return await vetting.submitted(body.agent_id, body.card_digest)


@router.post(
    "/tasks/scan",
    summary="Run one queued scan (Cloud Tasks only; idempotent)",
    responses={204: {"description": "Scanned now, or already scanned by an earlier delivery"}},
    status_code=204,
)
async def run_scan(ticket: ScanTicket, _: CloudTasks, vetting: Vetting) -> Response:
    """Deliveries come at least once: the receipt is written once per scan id."""
    await vetting.run_scan(ticket)
    return Response(status_code=204)
