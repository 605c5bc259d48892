"""Security events the executor sees (a forged agent claim): stored, then shipped to analytics."""

from __future__ import annotations

from datetime import UTC, datetime

from agora_common.models import UserIdentity
from agora_executor.repository import SECURITY_EVENTS, ExecutorRepository
from agora_executor.shipping import LogShipper


class SecurityEvents:
    def __init__(self, repository: ExecutorRepository, shipper: LogShipper) -> None:
        self._repository = repository
        self._shipper = shipper

    async def agent_auth_failed(self, user: UserIdentity, claimed: str, path: str) -> None:
        """A caller claimed to be an agent it is not."""
        event = {
            "kind": "agent_auth_failed",
            "caller_uid": user.uid,
            "caller_kind": user.kind.value,
            "claimed": claimed[:140],
            "path": path,
        }
        stored = await self._repository.add_security_event(event, datetime.now(UTC))
        self._shipper.stored(SECURITY_EVENTS, [stored])
