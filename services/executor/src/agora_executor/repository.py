"""Every Firestore call of the executor: execution logs, idempotency keys, deployments, events."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import firestore

from agora_common.clients import bounded_call

EXECUTION_LOGS = "execution_logs"
IDEMPOTENCY_KEYS = "execution_idempotency_keys"
DEPLOYMENTS = "deployments"
SECURITY_EVENTS = "security_events"


class ExecutorRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._call = bounded_call(timeout_s)

    async def add_execution_logs(self, logs: list[dict[str, Any]]) -> None:
        """One document per execution, named by its id: a retried batch cannot double one."""
        batch = self._db.batch()
        collection = self._db.collection(EXECUTION_LOGS)
        for entry in logs:
            batch.set(collection.document(entry["id"]), entry)
        await batch.commit(**self._call)

    async def claim_idempotency_key(
        self, key_id: str, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Claim the key for a new execution; or the record already there (nothing written)."""
        document = self._db.collection(IDEMPOTENCY_KEYS).document(key_id)
        try:
            await document.create(record, **self._call)
        except google_errors.AlreadyExists:
            snapshot = await document.get(**self._call)
            return snapshot.to_dict() or {}
        return None

    async def replace_idempotency_key(self, key_id: str, record: dict[str, Any]) -> None:
        """Take over an expired key or finish a claimed one."""
        document = self._db.collection(IDEMPOTENCY_KEYS).document(key_id)
        await document.set(record, **self._call)

    async def release_idempotency_key(self, key_id: str) -> None:
        """Forget a claim whose execution never reached the agent, so a retry may run."""
        document = self._db.collection(IDEMPOTENCY_KEYS).document(key_id)
        await document.delete(**self._call)

    async def get_deployment(self, agent_id: str) -> dict[str, Any] | None:
        snapshot = await self._db.collection(DEPLOYMENTS).document(agent_id).get(**self._call)
        return snapshot.to_dict()

    async def put_deployment(self, agent_id: str, deployment: dict[str, Any]) -> None:
        await self._db.collection(DEPLOYMENTS).document(agent_id).set(deployment, **self._call)

    async def add_security_event(self, event: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Stored with `shipped: False`, like execution logs, until analytics has it."""
        stored = {**event, "id": secrets.token_hex(12), "at": at, "shipped": False}
        await self._db.collection(SECURITY_EVENTS).document(stored["id"]).set(stored, **self._call)
        return stored

    async def unshipped(self, collection: str, limit: int) -> list[dict[str, Any]]:
        """Logs or security events analytics does not have yet (the outbox)."""
        query = (
            self._db.collection(collection)
            .where(filter=firestore.FieldFilter("shipped", "==", False))
            .limit(limit)
        )
        return [found async for doc in query.stream(**self._call) if (found := doc.to_dict())]

    async def mark_shipped(self, collection: str, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):  # Firestore's limit of writes per batch
            batch = self._db.batch()
            for doc_id in ids[start : start + 500]:
                batch.update(self._db.collection(collection).document(doc_id), {"shipped": True})
            await batch.commit(**self._call)
