"""Idempotency-Key: one answer per key and user, kept for replays, never a second run."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from agora_common.errors import AgoraError, Conflict, ValidationFailed
from agora_common.models import UserIdentity
from agora_executor.models import ExecuteRequest, Execution
from agora_executor.repository import ExecutorRepository

log = logging.getLogger("agora.executor")


class ExecutionInProgress(Conflict):
    code = "EXECUTION_IN_PROGRESS"
    message = "An execution with this Idempotency-Key is still running; retry shortly"


class AnswerNotKept(Conflict):
    code = "IDEMPOTENT_ANSWER_NOT_KEPT"
    message = "The first answer with this Idempotency-Key was too large to keep for replays"


class ReplayedFailure(AgoraError):
    """The error the first call with this Idempotency-Key got after reaching the agent."""

    def __init__(self, stored: dict[str, Any]) -> None:
        super().__init__(str(stored["message"]), code=str(stored["code"]))
        self.status_code = int(stored["status"])


MAX_KEPT_ANSWER_BYTES = 900_000  # a Firestore document holds 1 MiB


class IdempotencyKeyReused(ValidationFailed):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was used with another request"


class IdempotencyKeys:
    """Claims a key before a run, keeps its answer after, and releases it when nothing ran."""

    def __init__(self, repository: ExecutorRepository, *, ttl_s: float, lease_s: float) -> None:
        self._repository = repository
        self._ttl_s = ttl_s
        # A claim outlives its execution only when an instance died mid-call: after the
        # longest an execution can take, it may be taken over.
        self._lease_s = lease_s

    def _digest(self, request: ExecuteRequest) -> str:
        return hashlib.sha256(request.model_dump_json().encode()).hexdigest()

    async def claim(
        self, user: UserIdentity, request: ExecuteRequest, key: str
    ) -> tuple[str, Execution | None]:
        key_id = hashlib.sha256(f"{user.uid}\x00{key}".encode()).hexdigest()
        now = datetime.now(UTC)
        record = {
            "uid": user.uid,
            "digest": self._digest(request),
            "state": "running",
            "created_at": now,
            "expire_at": now + timedelta(seconds=self._ttl_s),
        }
        existing = await self._repository.claim_idempotency_key(key_id, record)
        if existing is None:
            return key_id, None
        if existing.get("expire_at") and existing["expire_at"] <= now:
            await self._repository.replace_idempotency_key(key_id, record)
            return key_id, None
        if existing.get("digest") != record["digest"]:
            raise IdempotencyKeyReused()
        state = existing.get("state")
        if state == "running":
            if existing["created_at"] + timedelta(seconds=self._lease_s) <= now:
                await self._repository.replace_idempotency_key(key_id, record)
                return key_id, None
            raise ExecutionInProgress()
        if state == "failed":
            raise ReplayedFailure(existing["error"])
        if state == "unkept":
            raise AnswerNotKept(details=[{"execution_id": existing.get("execution_id")}])
        return key_id, Execution.model_validate_json(existing["execution"])

    async def finish(
        self,
        key_id: str,
        user: UserIdentity,
        request: ExecuteRequest,
        execution: Execution | None,
        error: AgoraError | None = None,
    ) -> None:
        """Keep the answer for replays: the execution, or the error after the agent was called."""
        now = datetime.now(UTC)
        record: dict[str, Any] = {
            "uid": user.uid,
            "digest": self._digest(request),
            "created_at": now,
            "expire_at": now + timedelta(seconds=self._ttl_s),
        }
        if execution is None:
            assert error is not None
            status, code, message = error.status_code, error.code, error.message
            record |= {
                "state": "failed",
                "error": {"status": status, "code": code, "message": message},
            }
        else:
            answer = execution.model_dump_json()
            if len(answer) > MAX_KEPT_ANSWER_BYTES:
                record |= {"state": "unkept", "execution_id": execution.execution_id}
            else:
                record |= {"state": "done", "execution": answer}
        try:
            await self._repository.replace_idempotency_key(key_id, record)
        except Exception:
            log.exception("idempotent answer not kept", extra={"key": key_id[:12]})

    async def release(self, key_id: str) -> None:
        try:
            await self._repository.release_idempotency_key(key_id)
        except Exception:
            log.warning("idempotency key not released", extra={"key": key_id[:12]})
