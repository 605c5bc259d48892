"""The vetting workflow: submissions are scanned through Cloud Tasks; admins decide.

Approve: pending-vetting → vetted (registry) → the executor deploys → active. A failed deploy
leaves the agent vetted with the error on its decision, and approving again retries the deploy.
An agent hosted elsewhere (a card with a URL, no image and no source) has nothing to deploy:
approval moves it vetted → active, and the executor calls its URL under the egress rules.
Reject: pending-vetting → rejected, with the reason the owner sees. Suspend / reinstate: active ↔
suspended. Every decision is written to `audit_log` before it is carried out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from agora_common.agents import AgentDirectory, require_owner_or_admin
from agora_common.audit import Actor, AuditLog
from agora_common.errors import Conflict, NotFound
from agora_common.iam.client import ServiceClient
from agora_common.models import (
    AgentCard,
    AgentStatus,
    AgentView,
    UserIdentity,
    hosted_elsewhere,
)
from agora_common.signing import CardSigner
from agora_vetting.decisions import REFUSAL_CODES, RULES, DeployFailed, NotPending, ScanNotClean
from agora_vetting.deploys import DeployProbeFailed, request_deploy
from agora_vetting.models import (
    ApproveRequest,
    Decision,
    QueueItem,
    QueuePage,
    ScanQueued,
    ScanReceipt,
    ScanTicket,
)
from agora_vetting.owner_webhooks import OwnerWebhooks
from agora_vetting.receipt_signing import sign_receipt
from agora_vetting.repository import VettingRepository
from agora_vetting.scanning import Scanner, digest_of
from agora_vetting.tasks import ScanQueue

log = logging.getLogger("agora.vetting")


def scan_id_for(agent_id: str, card_digest: str, nonce: str | None = None) -> str:
    """Task names: the agent and its card (a submission is scanned once), plus an admin's nonce."""
    base = f"scan-{agent_id.replace('_', '-')}-{card_digest[:24]}"
    return f"{base}-{nonce}" if nonce else base


class VettingService:
    def __init__(
        self,
        repository: VettingRepository,
        queue: ScanQueue,
        scanner: Scanner,
        agents: AgentDirectory,
        services: ServiceClient,
        audit: AuditLog,
        *,
        deploy_timeout_s: float,
        owner_webhooks: OwnerWebhooks | None = None,
        signer: CardSigner | None = None,
    ) -> None:
        self._owner_webhooks = owner_webhooks
        # Signs each receipt as it is stored; None (no key configured): stored unsigned.
        self._signer = signer
        self._repo = repository
        self._queue = queue
        self._scanner = scanner
        self._agents = agents
        self._services = services
        self._audit = audit
        self._deploy_timeout = deploy_timeout_s

    # --- scans -------------------------------------------------------------------------------

    async def submitted(self, agent_id: str, card_digest: str) -> ScanQueued:
        """A new or resubmitted card: queue its scan (once per card)."""
        ticket = ScanTicket(
            scan_id=scan_id_for(agent_id, card_digest), agent_id=agent_id, card_digest=card_digest
        )
        queued = await self._queue.enqueue(ticket)
        return ScanQueued(scan_id=ticket.scan_id, agent_id=agent_id, queued=queued)

    async def request_scan(self, agent_id: str, admin: Actor) -> ScanQueued:
        """An admin's scan on demand: a fresh scan of the current card (one per minute)."""
        agent = await self._agents.get(agent_id, fresh=True)
        digest = _digest_of(agent)
        nonce = str(int(time.time() // 60))
        ticket = ScanTicket(
            scan_id=scan_id_for(agent_id, digest, nonce),
            agent_id=agent_id,
            card_digest=digest,
            requested_by=admin.uid or "admin",
        )
        queued = await self._queue.enqueue(ticket)
        return ScanQueued(scan_id=ticket.scan_id, agent_id=agent_id, queued=queued)

    async def run_scan(self, ticket: ScanTicket) -> ScanReceipt | None:
        """The task handler: at-least-once deliveries, one scan. None when it ran already."""
        if await self._repo.receipt(ticket.scan_id) is not None:
            return None
        if not await self._repo.claim_scan(ticket.scan_id, datetime.now(UTC)):
            return None  # another delivery is scanning right now
        try:
            receipt = await self._scanner.scan(ticket)
            if self._signer is not None:
                # A key that is down fails the delivery: Cloud Tasks retries, nothing unsigned
                # is stored while a key is configured.
                receipt = await sign_receipt(self._signer, receipt)
            await self._repo.put_receipt(receipt)
        except Exception:
            await self._repo.release_scan(ticket.scan_id)  # Cloud Tasks delivers it again
            raise
        log.info("scan done", extra={"agent_id": ticket.agent_id, "verdict": receipt.verdict})
        return receipt

    async def queue(self, after: datetime | None, limit: int, verdict: str | None) -> QueuePage:
        entries = await self._repo.queue_page(after, limit)
        # Each entry's agent and latest receipt, read concurrently rather than one after another.
        items = await asyncio.gather(*(self._queue_item(entry) for entry in entries))
        wanted = [
            item
            for item in items
            if item is not None
            and (verdict is None or (item.latest_scan and item.latest_scan.verdict == verdict))
        ]
        cursor = entries[-1]["submitted_at"].isoformat() if len(entries) == limit else None
        return QueuePage(items=wanted, next_cursor=cursor)

    async def _queue_item(self, entry: dict[str, Any]) -> QueueItem | None:
        try:
            agent, latest = await asyncio.gather(
                self._agents.get(entry["agent_id"]), self._repo.latest_receipt(entry["agent_id"])
            )
        except NotFound:
            return None  # deleted meanwhile
        return QueueItem(
            agent_id=entry["agent_id"],
            name=agent.card.get("name"),
            owner_uid=entry["owner_uid"],
            status=agent.status.value,
            submitted_at=entry["submitted_at"],
            card_digest=entry["card_digest"],
            latest_scan=latest,
        )

    async def receipt(self, user: UserIdentity, agent_id: str) -> ScanReceipt:
        """The owner's and admins' view of the latest scan receipt."""
        await self._owned(user, agent_id, "Only the owner and admins see scans")
        found = await self._repo.latest_receipt(agent_id)
        if found is None:
            raise NotFound("No scan of this agent yet", code="NO_SCAN")
        return found

    # --- decisions ---------------------------------------------------------------------------

    async def approve(self, agent_id: str, admin: Actor, request: ApproveRequest) -> Decision:
        agent = await self._agents.get(agent_id, fresh=True)
        if agent.status is AgentStatus.ACTIVE:
            current = await self._repo.decision(agent_id)
            if current is not None and current.decision in ("approved", "reinstated"):
                return current  # approving twice has the effect of once
        if agent.status not in (AgentStatus.PENDING_VETTING, AgentStatus.VETTED):
            raise NotPending(details=[{"status": agent.status.value}])
        if agent.status is AgentStatus.PENDING_VETTING:
            await self._check_scan(agent, request.accept_findings)
        await self._audit.record(
            "agent.approve",
            admin,
            {"agent_id": agent_id},
            {"notes": request.notes, "accept_findings": request.accept_findings},
        )
        if agent.status is AgentStatus.PENDING_VETTING:
            await self._agents.set_status(
                agent_id, AgentStatus.VETTED.value, request.notes or "approved", admin.uid
            )
        if hosted_elsewhere(agent.card):
            deploy = await self._activate(agent_id, agent.card, admin)
        else:
            deploy = await request_deploy(self._services, agent_id, self._deploy_timeout)
        decision = Decision(
            agent_id=agent_id,
            decision="approved",
            status="active" if deploy["status"] == "deployed" else "vetted",
            reason=request.notes,
            decided_by=admin.uid or "admin",
            decided_at=datetime.now(UTC),
            deploy=deploy,
        )
        decision = await self._tell(agent, decision)
        await self._repo.put_decision(decision)
        if deploy.get("findings"):
            raise DeployProbeFailed(details=deploy["findings"])
        if deploy["status"] != "deployed":
            raise DeployFailed(details=[{"error": deploy.get("error")}])
        return decision

    async def _check_scan(self, agent: AgentView, accept_findings: bool) -> None:
        latest = await self._repo.latest_receipt(agent.id)
        if latest is None or latest.card_digest != _digest_of(agent):
            raise ScanNotClean("No scan of the current card yet", code="SCAN_PENDING")
        if latest.verdict != "clean" and not accept_findings:
            raise ScanNotClean(details=[{"verdict": latest.verdict, "scan_id": latest.scan_id}])

    async def _activate(self, agent_id: str, card: dict[str, Any], admin: Actor) -> dict[str, Any]:
        """No deploy: vetted → active, the card's URL is where the executor calls it."""
        at = datetime.now(UTC)
        current = await self._agents.get(agent_id, fresh=True)
        if current.status is not AgentStatus.ACTIVE:
            await self._agents.set_status(
                agent_id, AgentStatus.ACTIVE.value, "approved: hosted at its own URL", admin.uid
            )
        url = (card.get("deployment") or {}).get("url")
        return {"status": "deployed", "url": url, "runtime": "external", "at": at}

    async def reject(self, agent_id: str, admin: Actor, reason: str) -> Decision:
        return await self._decide_once(agent_id, admin, "rejected", reason)

    async def suspend(self, agent_id: str, admin: Actor, reason: str) -> Decision:
        return await self._decide_once(agent_id, admin, "suspended", reason)

    async def reinstate(self, agent_id: str, admin: Actor, reason: str) -> Decision:
        return await self._decide_once(agent_id, admin, "reinstated", reason)

    async def _decide_once(
        self, agent_id: str, admin: Actor, decision: str, reason: str
    ) -> Decision:
        """A decision from its one allowed status; made already, it answers the decision."""
        source, target, refusal = RULES[decision]
        agent = await self._agents.get(agent_id, fresh=True)
        if agent.status is target:
            current = await self._repo.decision(agent_id)
            if current is not None and current.decision in (decision, "approved"):
                return current
        if agent.status is not source:
            raise Conflict(
                refusal, code=REFUSAL_CODES[source], details=[{"status": agent.status.value}]
            )
        return await self._decide(agent_id, admin, decision, target, reason)

    async def _decide(
        self, agent_id: str, admin: Actor, decision: Any, status: AgentStatus, reason: str
    ) -> Decision:
        action = {"rejected": "reject", "suspended": "suspend", "reinstated": "reinstate"}[decision]
        await self._audit.record(
            f"agent.{action}", admin, {"agent_id": agent_id}, {"reason": reason}
        )
        await self._agents.set_status(agent_id, status.value, reason, admin.uid)
        agent = await self._agents.get(agent_id, fresh=True)
        made = Decision(
            agent_id=agent_id,
            decision=decision,
            status=status.value,
            reason=reason,
            decided_by=admin.uid or "admin",
            decided_at=datetime.now(UTC),
        )
        made = await self._tell(agent, made)
        await self._repo.put_decision(made)
        return made

    # --- the owner's webhook -----------------------------------------------------------------

    async def _tell(self, agent: AgentView, decision: Decision) -> Decision:
        if self._owner_webhooks is None:
            return decision
        return await self._owner_webhooks.tell(agent, decision)

    async def decision(self, user: UserIdentity, agent_id: str) -> Decision:
        """The owner's and admins' view of the current decision."""
        await self._owned(user, agent_id, "Only the owner and admins see decisions")
        found = await self._repo.decision(agent_id)
        if found is None:
            raise NotFound("No decision on this agent yet", code="NO_DECISION")
        return found

    async def _owned(self, user: UserIdentity, agent_id: str, message: str) -> None:
        """The owner and admins pass; others get 404 for an agent they may not see, else 403."""
        require_owner_or_admin(user, await self._agents.get(agent_id), message)


def _digest_of(agent: AgentView) -> str:
    return digest_of(AgentCard.model_validate(agent.card))
