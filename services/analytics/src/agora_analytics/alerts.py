"""Anomaly alerts: each agent's recent error rate and p95 latency against its own baseline.

`check()` is one pass: a query over the baseline window (default 7 days) split at the recent
window (default 15 minutes), then the rules of `AlertRules`. Production runs it every few minutes
from Cloud Scheduler (`POST /internal/alerts/check`, as agora-alerts-scheduler); locally
`python -m agora_analytics.cli check-alerts` or an admin's `POST /alerts/check` run the same pass.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from agora_analytics import queries as q
from agora_analytics.bigquery import EventStore
from agora_analytics.models import Alert, AlertCheck, AlertKind
from agora_analytics.repository import AlertRepository
from agora_analytics.settings import AlertRules
from agora_common.audit import Actor, AuditLog
from agora_common.errors import Conflict, NotFound
from agora_common.webhooks import WebhookSender

log = logging.getLogger("agora.analytics.alerts")


class AlertNotFound(NotFound):
    code, message = "ALERT_NOT_FOUND", "Alert not found"


class AlertAlreadyAcked(Conflict):
    code, message = "ALERT_ALREADY_ACKED", "This alert was acknowledged already"


def anomalies(row: dict[str, Any], rules: AlertRules) -> dict[AlertKind, dict[str, Any]]:
    """The kinds of anomaly one agent's window row shows, with what was observed."""
    found: dict[AlertKind, dict[str, Any]] = {}
    recent_calls, base_calls = int(row["recent_calls"]), int(row["baseline_calls"])
    if recent_calls < rules.min_calls:
        return found
    recent_rate = int(row["recent_errors"]) / recent_calls
    base_rate = int(row["baseline_errors"]) / base_calls if base_calls else 0.0
    if recent_rate >= rules.min_error_rate and recent_rate >= base_rate * rules.error_rate_ratio:
        found[AlertKind.ERROR_RATE] = {
            "recent": {"calls": recent_calls, "error_rate": round(recent_rate, 4)},
            "baseline": {"calls": base_calls, "error_rate": round(base_rate, 4)},
        }
    recent_p95, base_p95 = row["recent_p95_ms"], row["baseline_p95_ms"]
    if base_calls >= rules.min_calls and recent_p95 is not None and base_p95 is not None:
        slower = recent_p95 >= base_p95 * rules.latency_ratio
        if slower and recent_p95 - base_p95 >= rules.min_latency_increase_ms:
            found[AlertKind.LATENCY] = {
                "recent": {"calls": recent_calls, "p95_ms": round(recent_p95, 3)},
                "baseline": {"calls": base_calls, "p95_ms": round(base_p95, 3)},
            }
    return found


class AlertService:
    def __init__(
        self,
        store: EventStore,
        repository: AlertRepository,
        rules: AlertRules,
        audit: AuditLog,
        webhook: tuple[WebhookSender, str, str] | None = None,
    ) -> None:
        self._store = store
        self._repo = repository
        self._rules = rules
        self._audit = audit
        self._webhook = webhook  # (sender, url, secret)

    async def check(self, now: datetime | None = None) -> AlertCheck:
        now = now or datetime.now(UTC)
        recent = now - timedelta(minutes=self._rules.recent_minutes)
        since = recent - timedelta(days=self._rules.baseline_days)
        sql = q.events(self._store.table_id) + q.ALERT_WINDOWS
        params = {
            "since": since,
            "until": now,
            "recent": recent,
            "min_calls": self._rules.min_calls,
        }
        rows = await self._store.query(sql, params)
        opened: list[Alert] = []
        still_open: list[str] = []
        for row in rows:
            for kind, observed in anomalies(row, self._rules).items():
                alert = await self._raise(row["agent_id"], kind, observed, now)
                if alert is None:
                    still_open.append(f"{row['agent_id']}.{kind.value}")
                else:
                    opened.append(alert)
        return AlertCheck(checked_agents=len(rows), opened=opened, still_open=still_open)

    async def _raise(
        self, agent_id: str, kind: AlertKind, observed: dict[str, Any], now: datetime
    ) -> Alert | None:
        """A new alert, or None when one of this kind is open for the agent (it is refreshed)."""
        alert_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
        if not await self._repo.claim(agent_id, kind, alert_id):
            existing = await self._repo.open_alert_id(agent_id, kind)
            if existing is not None:
                await self._repo.touch(existing, now, observed["recent"])
            return None
        alert = Alert(
            id=alert_id,
            agent_id=agent_id,
            kind=kind,
            status="open",
            opened_at=now,
            last_seen_at=now,
            observed=observed["recent"],
            baseline=observed["baseline"],
        )
        log.warning("alert opened", extra={"agent_id": agent_id, "kind": kind.value})
        if self._webhook is not None:
            sender, url, secret = self._webhook
            data = alert.model_dump(mode="json")
            alert.webhook = await sender.send(url, secret, "alert.opened", data)
        try:
            await self._repo.put(alert)
        except Exception:
            await self._repo.unclaim(agent_id, kind, alert_id)  # the next check tries again
            raise
        return alert

    async def list(self, status: str | None, limit: int) -> list[Alert]:
        return await self._repo.list(status, limit)

    async def ack(self, alert_id: str, actor: Actor, note: str | None) -> Alert:
        alert = await self._repo.get(alert_id)
        if alert is None:
            raise AlertNotFound()
        if alert.status == "acked":
            raise AlertAlreadyAcked()
        await self._audit.record(
            "alert.ack", actor, {"alert_id": alert_id, "agent_id": alert.agent_id}, {"note": note}
        )
        acked = alert.model_copy(
            update={
                "status": "acked",
                "acked_by": actor.uid,
                "acked_at": datetime.now(UTC),
                "note": note,
            }
        )
        await self._repo.release(acked)
        return acked
