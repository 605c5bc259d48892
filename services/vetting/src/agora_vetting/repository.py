"""Every Firestore call of vetting: the queue (written by the registry), receipts, decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter

from agora_common.clients import bounded_call
from agora_vetting.models import Decision, ScanReceipt

VETTING_QUEUE = "vetting_queue"
SCAN_RECEIPTS = "scan_receipts"
SCAN_RUNS = "scan_runs"
DECISIONS = "vetting_decisions"
OWNER_WEBHOOKS = "owner_webhooks"
# Written by the executor: where each deployed agent answers.
DEPLOYMENTS = "deployments"


class VettingRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._call = bounded_call(timeout_s)

    async def local_deployment_at(self, url: str) -> bool:
        """Whether the executor's local runtime recorded an agent deployed at `url`."""
        query: Any = (
            self._db.collection(DEPLOYMENTS)
            .where(filter=FieldFilter("url", "==", url))
            .where(filter=FieldFilter("runtime", "==", "local"))
            .limit(1)
        )
        return bool([doc async for doc in query.stream(**self._call)])

    async def queue_page(self, after: datetime | None, limit: int) -> list[dict[str, Any]]:
        """Oldest submissions first; keyset pagination on `submitted_at`."""
        query: Any = self._db.collection(VETTING_QUEUE).order_by("submitted_at")
        if after is not None:
            query = query.where(filter=FieldFilter("submitted_at", ">", after))
        return [doc.to_dict() async for doc in query.limit(limit).stream(**self._call)]

    async def queue_entry(self, agent_id: str) -> dict[str, Any] | None:
        snapshot = await self._db.collection(VETTING_QUEUE).document(agent_id).get(**self._call)
        return snapshot.to_dict() if snapshot.exists else None

    async def claim_scan(self, scan_id: str, at: datetime) -> bool:
        """True for the first delivery of a scan task; later deliveries see False."""
        try:
            await (
                self._db.collection(SCAN_RUNS)
                .document(scan_id)
                .create({"started_at": at}, **self._call)
            )
        except google_errors.AlreadyExists:
            return False
        return True

    async def release_scan(self, scan_id: str) -> None:
        """A scan that could not finish: let the next delivery run it."""
        await self._db.collection(SCAN_RUNS).document(scan_id).delete(**self._call)

    async def put_receipt(self, receipt: ScanReceipt) -> None:
        data = receipt.model_dump(mode="python")
        await self._db.collection(SCAN_RECEIPTS).document(receipt.scan_id).set(data, **self._call)

    async def receipt(self, scan_id: str) -> ScanReceipt | None:
        snapshot = await self._db.collection(SCAN_RECEIPTS).document(scan_id).get(**self._call)
        return ScanReceipt.model_validate(snapshot.to_dict()) if snapshot.exists else None

    async def latest_receipt(self, agent_id: str) -> ScanReceipt | None:
        query = (
            self._db.collection(SCAN_RECEIPTS)
            .where(filter=FieldFilter("agent_id", "==", agent_id))
            .order_by("scanned_at", direction=firestore.Query.DESCENDING)
            .limit(1)
        )
        found = [ScanReceipt.model_validate(d.to_dict()) async for d in query.stream(**self._call)]
        return found[0] if found else None

    async def put_decision(self, decision: Decision) -> None:
        data = decision.model_dump(mode="python")
        await self._db.collection(DECISIONS).document(decision.agent_id).set(data, **self._call)

    async def decision(self, agent_id: str) -> Decision | None:
        snapshot = await self._db.collection(DECISIONS).document(agent_id).get(**self._call)
        return Decision.model_validate(snapshot.to_dict()) if snapshot.exists else None

    async def put_webhook(self, uid: str, data: dict[str, Any]) -> None:
        await self._db.collection(OWNER_WEBHOOKS).document(uid).set(data, **self._call)

    async def webhook(self, uid: str) -> dict[str, Any] | None:
        snapshot = await self._db.collection(OWNER_WEBHOOKS).document(uid).get(**self._call)
        return snapshot.to_dict() if snapshot.exists else None

    async def delete_webhook(self, uid: str) -> None:
        await self._db.collection(OWNER_WEBHOOKS).document(uid).delete(**self._call)
