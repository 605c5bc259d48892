"""Internal routes: submissions from the registry, the scan task handler, relayed approvals, and
package checks for the Tool Factory."""

from __future__ import annotations

from fastapi import APIRouter, Response

from agora_common.audit import Actor
from agora_vetting.models import (
    ApprovalFor,
    ApproveRequest,
    Decision,
    PackageCheck,
    PackageCheckRequest,
    ScanQueued,
    ScanTicket,
    Submission,
)
from agora_vetting.routes.deps import (
    Approver,
    CloudTasks,
    PackageCaller,
    PackageChecks,
    Submitter,
    Vetting,
)

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


@router.post(
    "/agents/{agent_id}/approve",
    response_model=Decision,
    summary="Approve and deploy for an admin the calling service verified (tool service only)",
)
async def approve_for(
    agent_id: str, body: ApprovalFor, service: Approver, vetting: Vetting
) -> Decision:
    """The same decision as an admin's POST /{agent_id}/approve: one audit record (naming the
    admin, and the service that relayed it), one deploy."""
    admin = Actor(kind="user", uid=body.admin_uid, email=body.admin_email, name=service)
    request = ApproveRequest(notes=body.notes, accept_findings=body.accept_findings)
    return await vetting.approve(agent_id, admin, request)


@router.post(
    "/package-checks",
    response_model=PackageCheck,
    summary="Check a package's files: static scanners and its own tests (the tool service only)",
    responses={503: {"description": "Every check slot stayed busy (PACKAGE_CHECKS_BUSY)"}},
)
async def package_check(
    body: PackageCheckRequest, _: PackageCaller, checks: PackageChecks
) -> PackageCheck:
    """bandit, semgrep, detect-secrets and the package's tests, run on the files now (seconds;
    at most the scan caps). Up to 500 files, 2 MiB together; each path relative, "/"-separated,
    without `..`. The verdict is a scan receipt's: `findings`, `inconclusive` (with the reason)
    or `clean`; a package without tests has its tests check `skipped` ("no tests")."""
    return await checks.check(body)
