"""Ingestion: validated, priced events into BigQuery, batched across concurrent requests.

`POST /log` answers only once its events are in BigQuery, so a sender keeps them (the executor's
outbox) until then and nothing acknowledged can be lost here. Concurrent requests share inserts:
one insert per `batch_rows` rows or every `batch_ms`, whichever comes first, one insert at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from agora_analytics.bigquery import EventStore
from agora_analytics.models import (
    EVENT,
    ExecutionEvent,
    LogResult,
    RejectedEvent,
    SecurityEvent,
)
from agora_analytics.settings import PriceTable
from agora_common.errors import json_path

log = logging.getLogger("agora.analytics.ingest")


def price_micros(prices: PriceTable, event: ExecutionEvent) -> tuple[int, int, int]:
    """(cost, per call, per second) in micro-USD; agent time is billed by the millisecond."""
    price = prices.for_agent(event.agent_id)
    time_cost = round(price.per_second_micros * event.duration_ms / 1000)
    return price.per_call_micros + time_cost, price.per_call_micros, price.per_second_micros


def to_row(
    event: ExecutionEvent | SecurityEvent, source: str, prices: PriceTable, now: datetime
) -> dict[str, Any]:
    """The BigQuery row of an event (JSON-ready)."""
    row: dict[str, Any] = {
        "event_id": event.event_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "ingested_at": now.isoformat(),
        "source": source,
        "agent_id": event.agent_id,
        "caller_uid": event.caller_uid,
    }
    if isinstance(event, ExecutionEvent):
        cost, per_call, per_second = price_micros(prices, event)
        row.update(
            agent_owner_uid=event.agent_owner_uid,
            tool_name=event.tool_name,
            caller_kind=event.caller_kind,
            token_id=event.token_id,
            status=event.status,
            error_code=event.error_code,
            duration_ms=event.duration_ms,
            request_bytes=event.request_bytes,
            response_bytes=event.response_bytes,
            cost_micros=cost,
            price_per_call_micros=per_call,
            price_per_second_micros=per_second,
        )
    else:
        row.update(
            security_type=event.type,
            client_ip=event.client_ip,
            event_count=event.count,
            path=event.path,
        )
    return row


def parse_events(
    raw: Sequence[Any],
) -> tuple[list[tuple[int, ExecutionEvent | SecurityEvent]], list[RejectedEvent]]:
    """Each event on its own: a bad one is reported by index and JSON path, the rest go on."""
    good: list[tuple[int, ExecutionEvent | SecurityEvent]] = []
    bad: list[RejectedEvent] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        event_id = item.get("event_id") if isinstance(item, dict) else None
        try:
            event = EVENT.validate_python(item)
        except ValidationError as exc:
            errors = [
                {"path": json_path(("events", index, *err["loc"][1:])), "message": err["msg"]}
                for err in exc.errors(include_input=False)
            ]
            bad.append(RejectedEvent(index=index, event_id=_printable(event_id), errors=errors))
            continue
        if event.event_id in seen:  # a repeat within one request is the same event
            continue
        seen.add(event.event_id)
        good.append((index, event))
    return good, bad


def _printable(value: Any) -> str | None:
    return value[:128] if isinstance(value, str) else None


@dataclass
class _Pending:
    rows: list[dict[str, Any]]
    done: asyncio.Future[dict[int, list[dict[str, Any]]]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Ingestor:
    """Batches rows of concurrent requests into streaming inserts."""

    def __init__(
        self, store: EventStore, prices: PriceTable, *, batch_rows: int, batch_ms: int
    ) -> None:
        self._store = store
        self._prices = prices
        self._batch_rows = batch_rows
        self._batch_s = batch_ms / 1000
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pending in self._queue:  # the senders keep them and retry
            if not pending.done.done():
                pending.done.set_exception(asyncio.CancelledError())

    async def log(self, source: str, raw: Sequence[Any]) -> LogResult:
        good, rejected = parse_events(raw)
        if not good:
            return LogResult(accepted=0, rejected=rejected)
        now = datetime.now(UTC)
        rows = [to_row(event, source, self._prices, now) for _, event in good]
        pending = _Pending(rows)
        self._queue.append(pending)
        self._queued_rows += len(rows)
        self._wake.set()
        if self._queued_rows >= self._batch_rows:
            self._full.set()
        row_errors = await asyncio.shield(pending.done)
        for position, errors in sorted(row_errors.items()):
            index, event = good[position]
            log.warning("bigquery refused an event", extra={"event_id": event.event_id})
            rejected.append(
                RejectedEvent(
                    index=index,
                    event_id=event.event_id,
                    errors=[{"path": f"$.events[{index}]", "message": _reason(errors)}],
                )
            )
        rejected.sort(key=lambda item: item.index)
        return LogResult(accepted=len(good) - len(row_errors), rejected=rejected)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            # Let a batch fill for up to batch_ms, unless it is full already.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._batch_s)
            batch, rows = [], 0
            while self._queue and rows < self._batch_rows:
                batch.append(self._queue.popleft())
                rows += len(batch[-1].rows)
            self._queued_rows -= rows
            if not self._queue:
                self._wake.clear()
            if self._queued_rows < self._batch_rows:
                self._full.clear()
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        try:
            errors = await self._store.insert(rows)
        except Exception as exc:
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        offset = 0
        for pending in batch:
            mine = {
                index - offset: errs
                for index, errs in errors.items()
                if offset <= index < offset + len(pending.rows)
            }
            offset += len(pending.rows)
            if not pending.done.done():
                pending.done.set_result(mine)


def _reason(errors: list[dict[str, Any]]) -> str:
    reasons = [str(e.get("message") or e.get("reason") or "refused") for e in errors]
    return "; ".join(reasons)[:300] or "refused by BigQuery"
