"""Telling vetting about a new or resubmitted card, so its scan is queued at once.

The queue entry in Firestore (`vetting_queue/{agent_id}`) is the record; this call only saves
waiting. It runs beside the answer and is best effort: if vetting is unreachable the entry is
still there, and vetting queues the scan when an admin lists the queue or asks for a scan.
"""

from __future__ import annotations

import logging

from agora_common.background import BesideTheAnswer
from agora_common.iam.client import ServiceClient

log = logging.getLogger("agora.registry.submissions")


class SubmissionNotifier:
    def __init__(self, services: ServiceClient) -> None:
        self._services = services
        self._beside = BesideTheAnswer("submissions to vetting")
        self.enabled = "vetting" in services.service_urls

    def submitted(self, agent_id: str, card_digest: str) -> None:
        if self.enabled:
            self._beside.spawn(self._tell(agent_id, card_digest))

    async def _tell(self, agent_id: str, card_digest: str) -> None:
        body = {"agent_id": agent_id, "card_digest": card_digest}
        try:
            response = await self._services.request(
                "vetting", "POST", "/internal/submissions", json=body
            )
            if response.status_code != 202:
                log.warning("vetting refused a submission", extra={"status": response.status_code})
        except Exception as exc:  # best effort by design
            log.warning("vetting not told of a submission", extra={"error": type(exc).__name__})

    async def aclose(self) -> None:
        await self._beside.aclose()
