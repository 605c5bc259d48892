"""Read models over the events table: an agent's metrics, costs, the admin dashboard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from agora_analytics import queries as q
from agora_analytics.bigquery import EventStore
from agora_analytics.models import (
    AgentRank,
    Alert,
    Bucket,
    CostLine,
    Costs,
    Dashboard,
    ErrorCount,
    HourCount,
    Metrics,
    TokenSpend,
    Window,
    usd,
)
from agora_common.agents import AgentDirectory, require_owner_or_admin
from agora_common.models import UserIdentity


class MetricsService:
    def __init__(self, store: EventStore, agents: AgentDirectory) -> None:
        self._store = store
        self._agents = agents

    async def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return await self._store.query(sql, params)

    async def agent_metrics(self, user: UserIdentity, agent_id: str, window: Window) -> Metrics:
        await self._check_owner(user, agent_id)
        until = datetime.now(UTC)
        since = until - window.span
        cte = q.events(self._store.table_id, where="AND agent_id = @agent_id")
        params = {"since": since, "until": until, "agent_id": agent_id}
        summary, errors, buckets = await asyncio.gather(
            self._rows(cte + q.METRICS_SUMMARY, **params),
            self._rows(cte + q.METRICS_ERRORS, **params),
            self._rows(cte + q.METRICS_BUCKETS, bucket_s=window.bucket_s, **params),
        )
        totals = summary[0] if summary else {}
        calls = int(totals.get("calls") or 0)
        succeeded = int(totals.get("succeeded") or 0)
        return Metrics(
            agent_id=agent_id,
            window=window,
            since=since,
            until=until,
            bucket_seconds=window.bucket_s,
            calls=calls,
            succeeded=succeeded,
            success_rate=round(succeeded / calls, 6) if calls else None,
            p50_ms=_ms(totals.get("p50_ms")),
            p95_ms=_ms(totals.get("p95_ms")),
            errors_by_code=[ErrorCount(code=r["code"], count=r["count"]) for r in errors],
            buckets=[
                Bucket(
                    start=r["start"], calls=r["calls"], errors=r["errors"], p95_ms=_ms(r["p95_ms"])
                )
                for r in buckets
            ],
        )

    async def _check_owner(self, user: UserIdentity, agent_id: str) -> None:
        agent = await self._agents.get(agent_id)
        require_owner_or_admin(user, agent, "Only the agent's owner and admins see its metrics")

    async def costs(self, user: UserIdentity, days: int, everyone: bool) -> Costs:
        """The caller's own spending; with `everyone` (admins), all of it by user too."""
        until = datetime.now(UTC)
        since = until - timedelta(days=days)
        params: dict[str, Any] = {"since": since, "until": until}
        where = ""
        if not everyone:
            where, params["uid"] = "AND caller_uid = @uid", user.uid
        cte = q.events(self._store.table_id, where=where)
        wanted = [q.COSTS_TOTAL, q.COSTS_BY_DAY, q.costs_by("agent_id")]
        if everyone:
            wanted.append(q.costs_by("caller_uid"))
        results = await asyncio.gather(*(self._rows(cte + sql, **params) for sql in wanted))
        total = results[0][0] if results[0] else {}
        micros = int(total.get("cost_micros") or 0)
        return Costs(
            scope="all" if everyone else "own",
            since=since,
            until=until,
            calls=int(total.get("calls") or 0),
            cost_micros=micros,
            cost_usd=usd(micros),
            by_day=_lines(results[1]),
            by_agent=_lines(results[2]),
            by_user=_lines(results[3]) if everyone else None,
        )

    async def token_spend(self, token_id: str, since: datetime) -> TokenSpend:
        """The cost of one personal token's executions from `since` until now."""
        until = datetime.now(UTC)
        cte = q.events(self._store.table_id, where="AND token_id = @token_id")
        rows = await self._rows(cte + q.TOKEN_SPEND, since=since, until=until, token_id=token_id)
        total = rows[0] if rows else {}
        micros = int(total.get("cost_micros") or 0)
        return TokenSpend(
            token_id=token_id,
            since=since,
            until=until,
            calls=int(total.get("calls") or 0),
            cost_micros=micros,
            cost_usd=usd(micros),
        )

    async def dashboard(self, open_alerts: list[Alert]) -> Dashboard:
        until = datetime.now(UTC)
        since = until - timedelta(hours=24)
        params = {"since": since, "until": until}
        cte = q.events(self._store.table_id)
        security = q.events(self._store.table_id, kind="security")
        totals, hours, by_calls, by_cost, threats = await asyncio.gather(
            self._rows(cte + q.DASHBOARD_TOTALS, **params),
            self._rows(cte + q.DASHBOARD_HOURS, **params),
            self._rows(cte + q.top_agents("calls"), **params),
            self._rows(cte + q.top_agents("cost_micros"), **params),
            self._rows(security + q.SECURITY_COUNT, **params),
        )
        t = totals[0] if totals else {}
        calls, errors = int(t.get("calls") or 0), int(t.get("errors") or 0)
        micros = int(t.get("cost_micros") or 0)
        return Dashboard(
            since=since,
            until=until,
            calls=calls,
            errors=errors,
            error_rate=round(errors / calls, 6) if calls else None,
            cost_micros=micros,
            cost_usd=usd(micros),
            agents=int(t.get("agents") or 0),
            users=int(t.get("users") or 0),
            security_events=int(threats[0]["count"]) if threats else 0,
            executions_per_hour=[HourCount(**r) for r in hours],
            top_agents_by_calls=[_rank(r) for r in by_calls],
            top_agents_by_cost=[_rank(r) for r in by_cost],
            open_alerts=open_alerts,
        )


def _ms(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _lines(rows: list[dict[str, Any]]) -> list[CostLine]:
    return [
        CostLine(
            key=str(r["key"]),
            calls=int(r["calls"]),
            cost_micros=int(r["cost_micros"]),
            cost_usd=usd(int(r["cost_micros"])),
        )
        for r in rows
        if r["key"] is not None
    ]


def _rank(row: dict[str, Any]) -> AgentRank:
    micros = int(row["cost_micros"])
    return AgentRank(
        agent_id=row["agent_id"], calls=row["calls"], cost_micros=micros, cost_usd=usd(micros)
    )
