"""Tool Factory jobs: what one generation was asked, how far it got, and what it made.

`tool_jobs/{job_id}`. A job's id comes from its owner and its request, so asking again for the
same thing finds the same job (and, generation being deterministic, the same package). The
package's files are kept with the job as JSON; the archive itself lives in the source bucket
under its digest, where a submission finds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from google.cloud import firestore

from agora_common.clients import bounded_call

JOBS = "tool_jobs"
JobStatus = Literal["queued", "running", "ready", "failed"]
# What a job goes through, in order; `step` names the current one.
STEPS = ("generating", "formatting", "checking", "storing")


def job_id_for(owner_uid: str, request: dict[str, Any]) -> str:
    material = json.dumps([owner_uid, request], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Job:
    job_id: str
    owner_uid: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    expire_at: datetime
    step: str | None = None
    steps_done: int = 0
    package_digest: str | None = None
    card: dict[str, Any] | None = None
    files: dict[str, str] | None = None
    report: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @classmethod
    def new(cls, job_id: str, owner_uid: str, now: datetime, ttl: timedelta) -> Job:
        return cls(job_id, owner_uid, "queued", now, now, now + ttl)

    def at_step(self, step: str, now: datetime) -> Job:
        return replace(
            self, status="running", step=step, steps_done=STEPS.index(step), updated_at=now
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "owner_uid": self.owner_uid,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expire_at": self.expire_at,
            "step": self.step,
            "steps_done": self.steps_done,
            "package_digest": self.package_digest,
            # JSON strings: a card's schemas may nest deeper than Firestore maps allow.
            "card": json.dumps(self.card) if self.card is not None else None,
            "files": json.dumps(self.files) if self.files is not None else None,
            "report": json.dumps(self.report),
            "error": self.error,
        }

    @classmethod
    def from_document(cls, job_id: str, data: dict[str, Any]) -> Job:
        return cls(
            job_id=job_id,
            owner_uid=data["owner_uid"],
            status=data["status"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            expire_at=data["expire_at"],
            step=data.get("step"),
            steps_done=int(data.get("steps_done", 0)),
            package_digest=data.get("package_digest"),
            card=json.loads(data["card"]) if data.get("card") else None,
            files=json.loads(data["files"]) if data.get("files") else None,
            report=json.loads(data.get("report") or "[]"),
            error=data.get("error"),
        )


class JobRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._jobs = db.collection(JOBS)
        self._call = bounded_call(timeout_s)

    async def get(self, job_id: str) -> Job | None:
        snapshot = await self._jobs.document(job_id).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return Job.from_document(job_id, data)

    async def put(self, job: Job) -> None:
        await self._jobs.document(job.job_id).set(job.to_document(), **self._call)

    async def ready_with(self, owner_uid: str, package_digest: str) -> Job | None:
        """The owner's finished job that made this package, if any."""
        query = (
            self._jobs.where(filter=firestore.FieldFilter("owner_uid", "==", owner_uid))
            .where(filter=firestore.FieldFilter("package_digest", "==", package_digest))
            .limit(1)
        )
        async for doc in query.stream(**self._call):
            job = Job.from_document(doc.id, doc.to_dict() or {})
            if job.status == "ready":
                return job
        return None
