"""The Tool Factory: start a generation, follow its job, download its package."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Response

from agora_common.identity import HumanUser
from agora_tool.factory import GenerateRequest
from agora_tool.jobs import STEPS, Job
from agora_tool.models import JobView
from agora_tool.routes.deps import Factory

router = APIRouter(prefix="/generate", tags=["tool factory"])


def job_view(job: Job) -> JobView:
    base = f"/api/v1/tools/generate/{job.job_id}"
    links = {"self": base}
    if job.status == "ready":
        links["package"] = f"{base}/package"
    return JobView(
        job_id=job.job_id,
        status=job.status,
        step=job.step,
        progress={"done": job.steps_done, "total": len(STEPS)},
        package_digest=job.package_digest,
        card=job.card,
        files=job.files,
        report=job.report,
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        links=links,
    )


@router.post(
    "",
    response_model=JobView,
    response_model_exclude_none=True,
    status_code=202,
    summary="Generate a tool package from a specification (a job: follow its link)",
    responses={200: {"model": JobView, "description": "The same request was already asked"}},
)
async def start(
    request: GenerateRequest, user: HumanUser, factory: Factory, response: Response
) -> JobView:
    """A bad specification is a 4xx at once; the work runs beside the answer. The same request
    from the same user answers its existing job (200) unless that one failed."""
    job, new = await factory.start(user, request)
    view = job_view(job)
    response.headers["Location"] = view.links["self"]
    if not new:
        response.status_code = 200
    return view


@router.get(
    "/{job_id}",
    response_model=JobView,
    response_model_exclude_none=True,
    summary="A generation job: its step, then its files, card, digest and check report",
)
async def status(job_id: str, user: HumanUser, factory: Factory) -> JobView:
    return job_view(await factory.job(user, job_id))


@router.get(
    "/{job_id}/package",
    summary="The generated package as a .tar.gz, with its digest",
    responses={200: {"content": {"application/gzip": {}}}},
)
async def package(job_id: str, user: HumanUser, factory: Factory) -> Response:
    job, data = await factory.archive(user, job_id)
    assert job.package_digest is not None
    hex_digest = job.package_digest.removeprefix("sha256:")
    name = str((job.card or {}).get("name", "tool")).lower().replace(" ", "-")
    return Response(
        data,
        media_type="application/gzip",
        headers={
            "ETag": f'"{job.package_digest}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(hex_digest)).decode()}:",
            "Content-Disposition": f'attachment; filename="{_safe(name)}-{hex_digest[:12]}.tar.gz"',
        },
    )


def _safe(name: str) -> str:
    kept = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_"))
    return kept[:40] or "tool"
