"""Executions: check, sign, call the agent's own container, log; answered once per key."""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from agora_common.agents import AgentDirectory, AgentNotFound
from agora_common.cache import ReadThrough
from agora_common.errors import (
    AgoraError,
    Conflict,
    Forbidden,
    ServiceUnavailable,
)
from agora_common.iam.client import ServiceAuth
from agora_common.models import (
    AgentStatus,
    AgentView,
    CallerKind,
    UserIdentity,
    may_see_agent,
    speaks_mcp,
)
from agora_executor.agent_client import (
    AgentAnswer,
    AgentBadAnswer,
    AgentClient,
    AgentRefusedSignature,
    AgentTimeout,
)
from agora_executor.auth_secrets import AuthSecrets
from agora_executor.idempotency import IdempotencyKeys
from agora_executor.logs import ExecutionLogWriter, log_entry
from agora_executor.mcp_agents import McpAgents
from agora_executor.models import ExecuteRequest, Execution, ExecutionStatus, ToolFailure
from agora_executor.payloads import PayloadChecker
from agora_executor.repository import ExecutorRepository
from agora_executor.settings import ExecutorSettings
from agora_executor.spend import SpendLimits

log = logging.getLogger("agora.executor")


class AgentNotActive(Conflict):
    code, message = "AGENT_NOT_ACTIVE", "The agent is not active"


# Errors raised after the call reached the agent: the tool may have run.
REACHED_THE_AGENT = (AgentTimeout, AgentBadAnswer)


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
        spend: SpendLimits,
        mcp: McpAgents,
    ) -> None:
        self._mcp = mcp
        self._logs = logs
        self._spend = spend
        # Cloud Run agents admit only the executor's identity (run.invoker), on top of the
        # signature the agent itself checks.
        self._identity = identity
        self._directory = directory
        self._secrets = secrets_
        self._agents = agents
        self._repo = repository
        self._settings = settings
        self._payloads = PayloadChecker()
        self._keys = IdempotencyKeys(
            repository,
            ttl_s=settings.idempotency_ttl_s,
            lease_s=settings.max_agent_timeout_s + 30,
        )
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
            key_id, replay = await self._keys.claim(user, request, idempotency_key)
            if replay is not None:
                return replay, True
        try:
            execution = await self._run(user, agent, request)
        except AgoraError as error:
            if key_id is not None:
                if isinstance(error, REACHED_THE_AGENT):
                    # The tool may have run: a retry gets this answer again, never a second run.
                    await self._keys.finish(key_id, user, request, None, error)
                else:
                    await self._keys.release(key_id)
            raise
        except BaseException:
            if key_id is not None:
                await self._keys.release(key_id)
            raise
        if key_id is not None:
            await self._keys.finish(key_id, user, request, execution)
        return execution, False

    async def _run(
        self, user: UserIdentity, agent: AgentView, request: ExecuteRequest
    ) -> Execution:
        # Before anything reaches the agent: a token past its monthly limit runs nothing.
        await self._spend.check(user)
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
            if speaks_mcp(agent.card):
                answer = await self._mcp.call(
                    await self.target_url(agent),
                    request.tool_name,
                    request.payload,
                    timeout_s=self._timeout(agent),
                )
            else:
                answer = await self._call_agent(agent, body)
        except Exception as exc:
            error_code = getattr(exc, "code", "INTERNAL")
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self._logs.add(
                log_entry(
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
        if not deployed and not known.current and not known.previous:
            # Hosted elsewhere and never deployed here: no secret exists, so the call is unsigned
            # (and carries no identity of the executor); its URL is still checked by the guard.
            return await self._agents.execute(
                url, agent.hash_id, None, body, timeout_s=self._timeout(agent)
            )
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
