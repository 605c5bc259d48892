"""Owners' webhooks: where decisions on their agents are posted, signed with a secret shown once.

The URL is an owner's: the one egress rule applies (public addresses only, in every mode), when
it is set and again when each decision is sent.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError, NotFound, ValidationFailed
from agora_common.models import AgentView
from agora_common.webhooks import WebhookSender
from agora_vetting.models import Decision, OwnerWebhook
from agora_vetting.repository import VettingRepository


class OwnerWebhooks:
    def __init__(
        self,
        repository: VettingRepository,
        sender: WebhookSender,
        guard: EgressGuard | None = None,
    ) -> None:
        self._repo = repository
        self._sender = sender
        self._guard = guard or EgressGuard()

    async def set(self, uid: str, url: str) -> OwnerWebhook:
        try:
            await self._guard.check_all(url)
        except AgoraError as exc:
            raise ValidationFailed(
                "The webhook URL is not acceptable",
                details=[{"path": "$.url", "message": exc.message}],
            ) from None
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await self._repo.put_webhook(uid, {"url": url, "secret": secret, "updated_at": now})
        return OwnerWebhook(url=url, secret=secret, secret_last4=secret[-4:], updated_at=now)

    async def get(self, uid: str) -> OwnerWebhook:
        hook = await self._repo.webhook(uid)
        if hook is None:
            raise NotFound("No webhook set", code="NO_WEBHOOK")
        return OwnerWebhook(
            url=hook["url"], secret_last4=hook["secret"][-4:], updated_at=hook["updated_at"]
        )

    async def delete(self, uid: str) -> None:
        await self._repo.delete_webhook(uid)

    async def tell(self, agent: AgentView, decision: Decision) -> Decision:
        """Post the decision to the owner's webhook, signed; the outcome goes on the decision."""
        hook = await self._repo.webhook(agent.owner_uid) if agent.owner_uid else None
        if hook is None:
            return decision
        data = decision.model_dump(mode="json", exclude={"webhook"})
        outcome = await self._sender.send(hook["url"], hook["secret"], "agent.decision", data)
        return decision.model_copy(update={"webhook": outcome})
