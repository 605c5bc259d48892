"""Submitting tool packages, and the admins' approval of a submitted tool."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError

from agora_common.errors import AgoraError, ValidationFailed, json_path
from agora_common.identity import AdminUser, HumanUser
from agora_tool.models import Approval, ApproveTool, GeneratedSubmission, SubmissionView
from agora_tool.routes.deps import Approvals, Submissions

router = APIRouter(tags=["tools"])

ARCHIVE_TYPES = (
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/octet-stream",
)


class UnsupportedPackageType(AgoraError):
    status_code, code = 415, "UNSUPPORTED_MEDIA_TYPE"
    message = "Send the package as application/gzip (a .tar.gz) or application/zip"


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"path": json_path(["body", *e["loc"]]), "message": e["msg"]}
        for e in exc.errors(include_input=False)
    ]


@router.post(
    "/submit",
    response_model=SubmissionView,
    status_code=201,
    summary="Submit a tool package (.tar.gz or .zip): it becomes your agent, pending vetting",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": GeneratedSubmission.model_json_schema()},
                **{t: {"schema": {"type": "string", "format": "binary"}} for t in ARCHIVE_TYPES},
            },
        }
    },
)
async def submit(request: Request, user: HumanUser, submissions: Submissions) -> SubmissionView:
    """A Tool Factory output by its digest (JSON `{"package_digest": "sha256:..."}`, your own
    jobs only), or your own archive with `agent-card.json` at its root. The platform sets where
    it runs and its source. 413 past the size caps, 422 for an unsafe archive or invalid card."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        body = await request.body()
        try:
            generated = GeneratedSubmission.model_validate_json(body)
        except ValidationError as exc:
            raise ValidationFailed(details=validation_problems(exc)) from None
        return await submissions.submit_generated(user, generated.package_digest)
    if kind not in ARCHIVE_TYPES:
        raise UnsupportedPackageType()
    return await submissions.submit(user, await request.body())


@router.patch(
    "/{tool_id}/approve",
    response_model=Approval,
    summary="Approve a submitted tool (admins): its agent is approved and deployed",
)
async def approve(
    tool_id: str, body: ApproveTool, admin: AdminUser, approvals: Approvals
) -> Approval:
    return await approvals.approve(admin, tool_id, body)
