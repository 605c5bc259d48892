"""Executions: check, sign, call the agent's own container, log; answered once per key."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from agora_common.agents import AgentDirectory, AgentNotFound
from agora_common.cache import ReadThrough
from agora_common.errors import (
    AgoraError,
    Conflict,
    Forbidden,
    ServiceUnavailable,
    ValidationFailed,
)
from agora_common.iam.client import ServiceAuth
from agora_common.models import AgentStatus, AgentView, CallerKind, UserIdentity, may_see_agent
from agora_executor.agent_client import (
    AgentAnswer,
    AgentBadAnswer,
    AgentClient,
    AgentRefusedSignature,
    AgentTimeout,
)
from agora_executor.auth_secrets import AuthSecrets
from agora_executor.logs import ExecutionLogWriter
from agora_executor.models import ExecuteRequest, Execution, ExecutionStatus, ToolFailure
from agora_executor.payloads import PayloadChecker
from agora_executor.repository import ExecutorRepository
from agora_executor.settings import ExecutorSettings

log = logging.getLogger("agora.executor")


class AgentNotActive(Conflict):
    code, message = "AGENT_NOT_ACTIVE", "The agent is not active"


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


MAX_KEPT_ANSWER_BYTES = 900_000
# Errors raised after the call reached the agent: the tool may have run.
REACHED_THE_AGENT = (AgentTimeout, AgentBadAnswer)


class IdempotencyKeyReused(ValidationFailed):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was used with another request"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def agent_hash_of(user: UserIdentity) -> str | None:
    """The hash id of a caller signed in as an agent (`agent:<hash_id>`)."""
    if user.kind is CallerKind.AGENT and user.uid and user.uid.startswith("agent:"):
        return user.uid.removeprefix("agent:")
    return None


class ExecutionService:
    def __init__(
        self,
        directory: AgentDirectory,
        secrets_: AuthSecrets,
        agents: AgentClient,
        repository: ExecutorRepository,
        settings: ExecutorSettings,
        identity: ServiceAuth,
        logs: ExecutionLogWriter,
    ) -> None:
        self._logs = logs
        # Cloud Run agents admit only the executor's identity (run.invoker), on top of the
        # signature the agent itself checks.
        self._identity = identity
        self._directory = directory
        self._secrets = secrets_
        self._agents = agents
        self._repo = repository
        self._settings = settings
        self._payloads = PayloadChecker()
        # Where each agent is deployed, read from Firestore; refreshed ahead while calls flow.
        self._deployments: ReadThrough[dict[str, Any] | None] = ReadThrough(
            repository.get_deployment,
            ttl_s=settings.agent_cache_ttl_s,
            stale_s=settings.agent_cache_ttl_s,
        )

    async def visible_agent(self, user: UserIdentity, agent_id: str) -> AgentView:
        agent = await self._directory.get(agent_id)
        if not may_see_agent(user, agent.status, agent.owner_uid):
            raise AgentNotFound()
        return agent

    async def check_agent_caller(self, user: UserIdentity) -> None:
        """An agent calls only while it is itself active."""
        hash_id = agent_hash_of(user)
        if user.kind is CallerKind.AGENT:
            if hash_id is None:
                raise Forbidden("Unknown agent identity", code="AGENT_NOT_ALLOWED")
            try:
                own = await self._directory.get(hash_id)
            except AgentNotFound:
                raise Forbidden(
                    "This agent is no longer registered", code="AGENT_NOT_ALLOWED"
                ) from None
            if own.status is not AgentStatus.ACTIVE:
                raise Forbidden("This agent is not active", code="AGENT_NOT_ACTIVE")

    async def execute(
        self, user: UserIdentity, request: ExecuteRequest, idempotency_key: str | None
    ) -> tuple[Execution, bool]:
        """The execution, and whether it replays an earlier one with the same key."""
        await self.check_agent_caller(user)
        agent = await self.visible_agent(user, request.agent_id)
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentNotActive()
        await self._payloads.check_off_loop(
            agent.card,
            f"{agent.id}:{agent.updated_at.isoformat()}",
            request.tool_name,
            request.payload,
        )
        key_id = None
        if idempotency_key is not None:
            key_id, replay = await self._claim(user, request, idempotency_key)
            if replay is not None:
                return replay, True
        try:
            execution = await self._run(user, agent, request)
        except AgoraError as error:
            if key_id is not None:
                if isinstance(error, REACHED_THE_AGENT):
                    # The tool may have run: a retry gets this answer again, never a second run.
                    await self._finish(key_id, user, request, None, error)
                else:
                    await self._release(key_id)
            raise
        except BaseException:
            if key_id is not None:
                await self._release(key_id)
            raise
        if key_id is not None:
            await self._finish(key_id, user, request, execution)
        return execution, False

    async def _run(
        self, user: UserIdentity, agent: AgentView, request: ExecuteRequest
    ) -> Execution:
        execution_id = secrets.token_hex(12)
        context: dict[str, Any] = {"execution_id": execution_id, "caller_uid": user.uid}
        keys = await self._provider_keys(user, agent)
        if keys:
            context["provider_keys"] = keys
        body = json.dumps(
            {"tool_name": request.tool_name, "payload": request.payload, "context": context},
            separators=(",", ":"),
        ).encode()
        started_at, started = datetime.now(UTC), time.perf_counter()
        answer: AgentAnswer | None = None
        error_code: str | None = None
        try:
            answer = await self._call_agent(agent, body)
        except Exception as exc:
            error_code = getattr(exc, "code", "INTERNAL")
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self._log(
                execution_id,
                user,
                agent,
                request,
                answer,
                error_code,
                duration_ms,
                started_at,
                len(body),
            )
        assert answer is not None
        return Execution(
            execution_id=execution_id,
            agent_id=agent.id,
            tool_name=request.tool_name,
            status=ExecutionStatus.SUCCEEDED if answer.ok else ExecutionStatus.FAILED,
            result=answer.result if answer.ok else None,
            error=None
            if answer.ok
            else ToolFailure(
                code=answer.error_code or "TOOL_ERROR", message=answer.error_message or ""
            ),
            duration_ms=duration_ms,
        )

    async def _call_agent(self, agent: AgentView, body: bytes) -> AgentAnswer:
        """Signed with the current secret; on a refused signature, with the one before it (an
        old revision still draining after a redeploy) or a fresher one (another instance
        deployed). A refused signature means the agent ran nothing, so trying again is safe."""
        url, deployed = await self._target(agent)
        # Only where the platform deployed the agent: a URL from a card alone must never
        # receive the executor's identity.
        authorization = await self._authorization(url) if deployed else None
        known = await self._secrets.agent_secrets(agent.id)
        candidates = [known.current, known.previous]
        tried: set[str] = set()
        for attempt in range(2):
            for secret in candidates:
                if not secret or secret in tried:
                    continue
                tried.add(secret)
                try:
                    return await self._agents.execute(
                        url,
                        agent.hash_id,
                        secret,
                        body,
                        timeout_s=self._timeout(agent),
                        authorization=authorization,
                    )
                except AgentRefusedSignature:
                    continue
            if attempt == 0:  # another instance may have deployed since these were cached
                fresh = await self._secrets.agent_secrets(agent.id, fresh=True)
                candidates = [fresh.current, fresh.previous]
        raise AgentRefusedSignature()

    async def _provider_keys(self, user: UserIdentity, agent: AgentView) -> dict[str, str]:
        metadata = agent.card.get("metadata") or {}
        wanted = metadata.get("provider_keys") or []
        if not wanted:
            return {}
        if user.kind is not CallerKind.USER or user.uid is None:
            raise Forbidden(
                "This agent needs a user's provider key; agents cannot call it",
                code="USER_REQUIRED",
            )
        return {str(p): await self._secrets.provider_key(user.uid, str(p)) for p in wanted}

    async def target_url(self, agent: AgentView) -> str:
        """Where the agent runs: its deployment, else the URL its card names."""
        return (await self._target(agent))[0]

    async def _target(self, agent: AgentView) -> tuple[str, bool]:
        """The agent's URL, and whether the platform deployed it there (not just the card)."""
        deployment = await self._deployments.get(agent.id)
        deployed = bool(deployment and deployment.get("url"))
        url = (deployment or {}).get("url") if deployed else None
        url = url or (agent.card.get("deployment") or {}).get("url")
        if not url:
            raise AgentNotActive("The agent has no deployment yet")
        return str(url), deployed

    async def _authorization(self, url: str) -> str:
        try:
            return await self._identity.authorization(_origin(url))
        except Exception as exc:  # the metadata server (or dev key) failed us, not the caller
            log.warning("no ID token for an agent", extra={"error": type(exc).__name__})
            raise ServiceUnavailable("The executor cannot authenticate to the agent now") from exc

    def forget_target(self, agent_id: str) -> None:
        self._deployments.discard(agent_id)

    def _timeout(self, agent: AgentView) -> float:
        asked = (agent.card.get("metadata") or {}).get("timeout_s")
        timeout = self._settings.agent_timeout_s
        if isinstance(asked, int | float) and asked > 0:
            timeout = asked
        return float(min(timeout, self._settings.max_agent_timeout_s))

    def _log(
        self,
        execution_id: str,
        user: UserIdentity,
        agent: AgentView,
        request: ExecuteRequest,
        answer: AgentAnswer | None,
        error_code: str | None,
        duration_ms: float,
        started_at: datetime,
        request_bytes: int,
    ) -> None:
        """`execution_logs/{id}`: everything analytics needs later, never a payload or a key."""
        if answer is None:
            status = "error"
        else:
            status = "succeeded" if answer.ok else "failed"
            error_code = answer.error_code
        entry = {
            "id": execution_id,
            "agent_id": agent.id,
            "agent_owner_uid": agent.owner_uid,
            "tool_name": request.tool_name,
            "caller_uid": user.uid,
            "caller_kind": user.kind.value,
            "status": status,
            "error_code": error_code,
            "duration_ms": duration_ms,
            "request_bytes": request_bytes,
            "response_bytes": answer.response_bytes if answer else 0,
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
            # Cost inputs: priced by analytics from its table (per call, per second of agent time).
            "cost_inputs": {"calls": 1, "agent_seconds": round(duration_ms / 1000, 6)},
            # Analytics ships logs from here; a log stays until it is marked shipped.
            "shipped": False,
        }
        self._logs.add(entry)

    # --- Idempotency-Key ---------------------------------------------------------------------

    def _digest(self, request: ExecuteRequest) -> str:
        return hashlib.sha256(request.model_dump_json().encode()).hexdigest()

    async def _claim(
        self, user: UserIdentity, request: ExecuteRequest, key: str
    ) -> tuple[str, Execution | None]:
        key_id = hashlib.sha256(f"{user.uid}\x00{key}".encode()).hexdigest()
        now = datetime.now(UTC)
        record = {
            "uid": user.uid,
            "digest": self._digest(request),
            "state": "running",
            "created_at": now,
            "expire_at": now + timedelta(seconds=self._settings.idempotency_ttl_s),
        }
        existing = await self._repo.claim_idempotency_key(key_id, record)
        if existing is None:
            return key_id, None
        if existing.get("expire_at") and existing["expire_at"] <= now:
            await self._repo.replace_idempotency_key(key_id, record)
            return key_id, None
        if existing.get("digest") != record["digest"]:
            raise IdempotencyKeyReused()
        state = existing.get("state")
        if state == "running":
            # A claim outlives its execution only when an instance died mid-call: after the
            # longest an execution can take, it may be taken over.
            lease_s = self._settings.max_agent_timeout_s + 30
            if existing["created_at"] + timedelta(seconds=lease_s) <= now:
                await self._repo.replace_idempotency_key(key_id, record)
                return key_id, None
            raise ExecutionInProgress()
        if state == "failed":
            raise ReplayedFailure(existing["error"])
        if state == "unkept":
            raise AnswerNotKept(details=[{"execution_id": existing.get("execution_id")}])
        return key_id, Execution.model_validate_json(existing["execution"])

    async def _finish(
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
            "expire_at": now + timedelta(seconds=self._settings.idempotency_ttl_s),
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
            if len(answer) > MAX_KEPT_ANSWER_BYTES:  # a Firestore document holds 1 MiB
                record |= {"state": "unkept", "execution_id": execution.execution_id}
            else:
                record |= {"state": "done", "execution": answer}
        try:
            await self._repo.replace_idempotency_key(key_id, record)
        except Exception:
            log.exception("idempotent answer not kept", extra={"key": key_id[:12]})

    async def _release(self, key_id: str) -> None:
        try:
            await self._repo.release_idempotency_key(key_id)
        except Exception:
            log.warning("idempotency key not released", extra={"key": key_id[:12]})
