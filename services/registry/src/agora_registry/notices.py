"""Telling peers what changed, beside the answer: vetting of submissions, the catalog of changes.

- A new or resubmitted card: vetting queues its scan at once. The queue entry in Firestore
  (`vetting_queue/{agent_id}`) is the record; if vetting is unreachable the entry is still
  there, and vetting queues the scan when an admin lists the queue or asks for a scan.
- Any change of an agent (card, status, deletion): the tool service syncs that agent's tools into
  the catalog. Its periodic reconcile repairs a notice that was lost.

Both calls are best effort by design and carry only the agent's id: the peer reads the agent
from the registry itself, so a notice can neither be forged into content nor arrive stale.
"""

from __future__ import annotations

import logging
from typing import Any

from agora_common.background import BesideTheAnswer
from agora_common.iam.client import ServiceClient

log = logging.getLogger("agora.registry.notices")


class PeerNotices:
    def __init__(self, services: ServiceClient) -> None:
        self._services = services
        self._beside = BesideTheAnswer("notices to peers")

    def submitted(self, agent_id: str, card_digest: str) -> None:
        body = {"agent_id": agent_id, "card_digest": card_digest}
        self._tell("vetting", "/internal/submissions", body, expected=202)

    def changed(self, agent_id: str) -> None:
        self._tell("tool", f"/internal/agents/{agent_id}/sync", None, expected=200)

    def _tell(self, service: str, path: str, body: Any, *, expected: int) -> None:
        if service in self._services.service_urls:
            self._beside.spawn(self._send(service, path, body, expected))

    async def _send(self, service: str, path: str, body: Any, expected: int) -> None:
        try:
            response = await self._services.request(service, "POST", path, json=body)
            if response.status_code != expected:
                log.warning(
                    "a peer refused a notice",
                    extra={"peer": service, "status": response.status_code},
                )
        except Exception as exc:  # best effort by design
            log.warning("a peer was not told", extra={"peer": service, "error": type(exc).__name__})

    async def aclose(self) -> None:
        await self._beside.aclose()
