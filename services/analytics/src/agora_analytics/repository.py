"""Firestore side of analytics: `alerts/{id}` and `alert_locks/{agent_id}.{kind}`.

The lock is what makes "one spike, one alert" hold across repeated and concurrent checks:
an alert is opened only by whoever creates its lock (`create` fails if it exists), and
acknowledging the alert releases the lock, so a later spike opens a new alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as google_exceptions
from google.cloud import firestore

from agora_analytics.models import Alert, AlertKind
from agora_common.clients import bounded_call

ALERTS = "alerts"
ALERT_LOCKS = "alert_locks"


class AlertRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._call = bounded_call(timeout_s)

    def _lock(self, agent_id: str, kind: AlertKind) -> firestore.AsyncDocumentReference:
        return self._db.collection(ALERT_LOCKS).document(f"{agent_id}.{kind.value}")

    async def open_alert_id(self, agent_id: str, kind: AlertKind) -> str | None:
        snapshot = await self._lock(agent_id, kind).get(**self._call)
        return str(snapshot.get("alert_id")) if snapshot.exists else None

    async def claim(self, agent_id: str, kind: AlertKind, alert_id: str) -> bool:
        """True when this call may open the alert: no alert of this kind is open for the agent."""
        try:
            await self._lock(agent_id, kind).create({"alert_id": alert_id}, **self._call)
        except google_exceptions.AlreadyExists:
            return False
        return True

    async def put(self, alert: Alert) -> None:
        data = alert.model_dump(mode="python")
        await self._db.collection(ALERTS).document(alert.id).set(data, **self._call)

    async def touch(self, alert_id: str, seen_at: datetime, observed: dict[str, Any]) -> None:
        update = {"last_seen_at": seen_at, "observed": observed}
        await self._db.collection(ALERTS).document(alert_id).update(update, **self._call)

    async def get(self, alert_id: str) -> Alert | None:
        snapshot = await self._db.collection(ALERTS).document(alert_id).get(**self._call)
        return Alert.model_validate(snapshot.to_dict()) if snapshot.exists else None

    async def list(self, status: str | None, limit: int) -> list[Alert]:
        query: Any = self._db.collection(ALERTS)
        if status is not None:
            query = query.where(filter=firestore.FieldFilter("status", "==", status))
        query = query.order_by("opened_at", direction=firestore.Query.DESCENDING).limit(limit)
        return [Alert.model_validate(doc.to_dict()) async for doc in query.stream(**self._call)]

    async def release(self, alert: Alert) -> None:
        """Write the acknowledged alert, then free its lock (a new spike may alert again)."""
        await self.put(alert)
        await self.unclaim(alert.agent_id, alert.kind, alert.id)

    async def unclaim(self, agent_id: str, kind: AlertKind, alert_id: str) -> None:
        lock = self._lock(agent_id, kind)
        snapshot = await lock.get(**self._call)
        if snapshot.exists and snapshot.get("alert_id") == alert_id:
            await lock.delete(**self._call)
