"""The Tool Factory as a service: jobs that generate, verify and store a package.

`POST /generate` checks the request at once (a bad schema or OpenAPI document is a 4xx then)
and answers 202 with a job; the work runs beside the answer, a bounded number at a time:

1. generating: the package files from templates (`agora_tool.factory`), deterministically; for
   the `llm` kind the user's own provider (their key, read from auth when the job is asked for
   and held only by the job's coroutine) writes the function body first;
2. formatting: ruff format and ruff check must find nothing;
3. checking: vetting scans the files (bandit, semgrep, detect-secrets) and runs the package's
   own tests in its sandbox, with the scanners' caps;
4. storing: the archive goes to the source bucket under its digest.

A job whose checks find anything ends `failed` with the report, and its package is not ready:
it cannot be submitted by digest. `GET /generate/{job_id}` shows the step and the report; only
the job's owner sees it (404 to everyone else).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agora_common.background import BesideTheAnswer
from agora_common.blobs import BlobStore
from agora_common.errors import AgoraError, NotFound, ServiceUnavailable
from agora_common.iam.client import ServiceClient
from agora_common.models import UserIdentity
from agora_common.provider_keys import provider_key
from agora_tool.factory import (
    GeneratedPackage,
    GenerateRequest,
    Problem,
    ToolKind,
    generate,
    generate_llm,
    verify_format,
)
from agora_tool.jobs import STEPS, Job, JobRepository, job_id_for
from agora_tool.submissions import ARCHIVE_TYPE, package_blob_name

log = logging.getLogger("agora.tool.factory")
CHECK_ATTEMPTS = 5
# Longer than the slowest step (vetting's checks are capped at check_timeout_s, 300 s).
ABANDONED_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class LlmProviders:
    """How the llm kind reaches providers: an egress-guarded client, and API base overrides."""

    http: httpx.AsyncClient
    base_urls: Mapping[str, str]


class JobNotFound(NotFound):
    code, message = "JOB_NOT_FOUND", "Generation job not found"


class PackageNotReady(AgoraError):
    status_code, code = 409, "PACKAGE_NOT_READY"
    message = "This job's package is not ready (still running, or its checks failed)"


class FactoryService:
    def __init__(
        self,
        jobs: JobRepository,
        blobs: BlobStore | None,
        services: ServiceClient,
        *,
        concurrency: int,
        job_ttl: timedelta,
        check_timeout_s: float,
        llm: LlmProviders,
    ) -> None:
        self._llm = llm
        self._jobs = jobs
        self._blobs = blobs
        self._services = services
        self._slots = asyncio.Semaphore(concurrency)
        self._ttl = job_ttl
        self._check_timeout_s = check_timeout_s
        self._beside = BesideTheAnswer("tool factory jobs", limit=64)

    async def start(self, user: UserIdentity, request: GenerateRequest) -> tuple[Job, bool]:
        """The job for this request (new, or the one already asked for); True if it is new."""
        assert user.uid is not None
        if self._blobs is None:
            raise ServiceUnavailable("No source bucket is configured for packages")
        api_key = None
        if request.kind is ToolKind.LLM:  # 404 PROVIDER_KEY_MISSING now, not in the job
            assert request.provider is not None
            api_key = await provider_key(
                self._services, user.uid, request.provider, why="An llm tool"
            )
        body = request.model_dump(mode="json")
        job_id = job_id_for(user.uid, body)
        existing = await self._jobs.get(job_id)
        if existing is not None and existing.status != "failed" and not _abandoned(existing):
            return existing, False
        job = Job.new(job_id, user.uid, datetime.now(UTC), self._ttl)
        await self._jobs.put(job)
        self._beside.spawn(self._run(job, request, api_key))
        return job, True

    async def job(self, user: UserIdentity, job_id: str) -> Job:
        job = await self._jobs.get(job_id) if len(job_id) <= 64 else None
        if job is None or job.owner_uid != user.uid:
            raise JobNotFound()
        return job

    async def archive(self, user: UserIdentity, job_id: str) -> tuple[Job, bytes]:
        job = await self.job(user, job_id)
        if job.status != "ready" or job.package_digest is None or self._blobs is None:
            raise PackageNotReady(details=[{"status": job.status}])
        data = await self._blobs.get(package_blob_name(job.package_digest), max_bytes=64 << 20)
        return job, data

    async def _run(self, job: Job, request: GenerateRequest, api_key: str | None) -> None:
        """The job's steps; the provider key (llm) lives in this coroutine only."""
        try:
            async with self._slots:
                job = await self._step(job, "generating")
                package = await self._generate(request, api_key)
                job = await self._step(job, "formatting")
                problems = await asyncio.to_thread(verify_format, package.files)
                report: list[dict[str, Any]] = [_format_check(problems)]
                if not problems:
                    job = await self._step(job, "checking")
                    report.append(await self._checks(package))
                if any(check["status"] != "ok" for check in report):
                    await self._end(job, package, report, ready=False)
                    return
                job = await self._step(job, "storing")
                assert self._blobs is not None
                await self._blobs.put(
                    package_blob_name(package.digest), package.archive, content_type=ARCHIVE_TYPE
                )
                await self._end(job, package, report, ready=True)
        except Exception as exc:  # the job says what happened; nothing else waits on it
            log.warning("generation failed", extra={"job_id": job.job_id, "error": repr(exc)})
            code = exc.code if isinstance(exc, AgoraError) else "GENERATION_FAILED"
            message = exc.message if isinstance(exc, AgoraError) else "The generation failed"
            error = {"code": code, "message": message}
            await self._jobs.put(replace(job, status="failed", error=error))

    async def _generate(self, request: GenerateRequest, api_key: str | None) -> GeneratedPackage:
        if api_key is None:
            return await asyncio.to_thread(generate, request)
        assert request.provider is not None
        return await generate_llm(
            request,
            api_key=api_key,
            base_url=self._llm.base_urls.get(request.provider),
            client=self._llm.http,
        )

    async def _step(self, job: Job, step: str) -> Job:
        job = job.at_step(step, datetime.now(UTC))
        await self._jobs.put(job)
        return job

    async def _checks(self, package: GeneratedPackage) -> dict[str, Any]:
        """Vetting's scanners and the package's own tests, in vetting's sandbox."""
        body = {"files": package.files, "label": str(package.card["name"])}
        for attempt in range(CHECK_ATTEMPTS):  # vetting answers 503 while its slots are busy
            response = await self._services.request(
                "vetting",
                "POST",
                "/internal/package-checks",
                json=body,
                timeout=self._check_timeout_s,
            )
            if response.status_code != 503:
                break
            await asyncio.sleep(2.0 * (attempt + 1))
        if response.status_code != 200:
            return {
                "name": "scan",
                "status": "failed",
                "reason": f"vetting answered {response.status_code}",
            }
        scan = response.json()
        status = "ok" if scan.get("verdict") == "clean" else "findings"
        return {
            "name": "scan",
            "status": status,
            "verdict": scan.get("verdict"),
            "checks": scan.get("checks", []),
        }

    async def _end(
        self, job: Job, package: GeneratedPackage, report: list[dict[str, Any]], *, ready: bool
    ) -> None:
        now = datetime.now(UTC)
        failed = {"code": "CHECKS_FAILED", "message": "The package did not pass its checks"}
        done = replace(
            job,
            status="ready" if ready else "failed",
            step=None,
            steps_done=len(STEPS) if ready else job.steps_done,
            updated_at=now,
            package_digest=package.digest if ready else None,
            card=package.card,
            files=package.files,
            report=report,
            error=None if ready else failed,
        )
        await self._jobs.put(done)

    async def aclose(self) -> None:
        await self._beside.aclose()


def _abandoned(job: Job) -> bool:
    """A job no step moved for this long lost its instance: the same request starts it again."""
    unfinished = job.status in ("queued", "running")
    return unfinished and datetime.now(UTC) - job.updated_at > ABANDONED_AFTER


def _format_check(problems: list[Problem]) -> dict[str, Any]:
    return {
        "name": "format",
        "status": "ok" if not problems else "findings",
        "findings": [asdict(p) for p in problems][:50],
    }
