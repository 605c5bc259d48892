"""Deploying an agent: a fresh signing secret, the runtime, a probe, the record, then active."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agora_common.agents import AgentDirectory
from agora_common.errors import Conflict
from agora_common.models import AgentStatus
from agora_executor.auth_secrets import AuthSecrets
from agora_executor.models import DeploymentView
from agora_executor.probe import DeployProbeFailed, RevisionProbe
from agora_executor.repository import ExecutorRepository
from agora_executor.runtime.base import AgentRuntime, Deployment, DeploySpec

log = logging.getLogger("agora.executor.deploy")
DEPLOYABLE = (AgentStatus.VETTED, AgentStatus.ACTIVE)


class NotDeployable(Conflict):
    code, message = "AGENT_NOT_DEPLOYABLE", "Only a vetted or active agent can be deployed"


class DeployService:
    def __init__(
        self,
        directory: AgentDirectory,
        secrets_: AuthSecrets,
        runtime: AgentRuntime,
        repository: ExecutorRepository,
        probe: RevisionProbe,
        *,
        on_deployed: Callable[[str], None] = lambda _agent_id: None,
    ) -> None:
        self._on_deployed = on_deployed
        self._directory = directory
        self._secrets = secrets_
        self._runtime = runtime
        self._repo = repository
        self._probe = probe
        self._locks: dict[str, asyncio.Lock] = {}

    async def deploy(self, agent_id: str, actor_uid: str | None, by: str) -> DeploymentView:
        """Deploy (or redeploy) and activate; a failure leaves the status as it was.

        Deploys of one agent run one at a time on this instance, so two of them (vetting's and an
        admin's) cannot cross their secrets; across instances the last promotion wins.
        """
        lock = self._locks.setdefault(agent_id, asyncio.Lock())
        async with lock:
            return await self._deploy(agent_id, actor_uid, by)

    async def _deploy(self, agent_id: str, actor_uid: str | None, by: str) -> DeploymentView:
        agent = await self._directory.get(agent_id, fresh=True)
        if agent.status not in DEPLOYABLE:
            raise NotDeployable(f"The agent is {agent.status.value}")
        card = agent.card
        source = (card.get("metadata") or {}).get("source")
        spec = DeploySpec(
            agent_id=agent.id,
            hash_id=agent.hash_id,
            image=(card.get("deployment") or {}).get("image"),
            source=source if isinstance(source, str) else None,
            env={
                "AGORA_AGENT_HASH_ID": agent.hash_id,
                "AGORA_AGENT_SECRET": await self._secrets.pending_agent_secret(agent.id),
            },
        )
        # Staged: where the runtime can, the previous revision serves until this one is committed.
        deployed = await self._runtime.stage(spec)
        try:
            now = await self._accept(agent.id, card, deployed, by, actor_uid)
        except BaseException:
            # A revision that failed or went unrecorded must never take a call.
            await self._runtime.discard(agent.id, agent.hash_id)
            raise
        self._on_deployed(agent.id)
        await self._runtime.commit(agent.id, agent.hash_id)
        status = agent.status
        if status is AgentStatus.VETTED:
            reason = "deployed" + (f" by {by}" if by else "")
            status = (
                await self._directory.set_status(agent.id, "active", reason, actor_uid)
            ).status
        return DeploymentView(
            agent_id=agent.id,
            url=deployed.url,
            runtime=deployed.runtime,
            revision=deployed.revision,
            deployed_at=now,
            status=status.value,
        )

    async def _accept(
        self,
        agent_id: str,
        card: dict[str, Any],
        deployed: Deployment,
        by: str,
        actor_uid: str | None,
    ) -> datetime:
        """Probe the staged revision, then promote its secret and record it; when it was."""
        # The card was vetted, not the image: the revision must serve every tool it declares.
        declared = [str(t.get("name")) for t in card.get("tools") or [] if isinstance(t, dict)]
        findings = await self._probe.findings(deployed.url, declared)
        if findings:
            log.warning(
                "deployed revision failed its probe",
                extra={"agent_id": agent_id, "checks": [f["check"] for f in findings]},
            )
            raise DeployProbeFailed(details=findings)
        # Only now does the new secret sign calls: a failed deploy leaves the running agent as is.
        await self._secrets.promote_agent_secret(agent_id)
        now = datetime.now(UTC)
        await self._repo.put_deployment(
            agent_id,
            {
                "agent_id": agent_id,
                "url": deployed.url,
                "runtime": deployed.runtime,
                "revision": deployed.revision,
                "deployed_at": now,
                "deployed_by": by,
                "actor_uid": actor_uid,
            },
        )
        return now
