"""Shipping execution logs and security events to analytics, through a durable outbox.

Firestore is the outbox: every log and security event is stored with `shipped: False` before
anything else happens to it. Stored batches are then posted to analytics `POST /log` off the
request path; analytics answers once the events are in BigQuery, and only then are they marked
shipped. If analytics or BigQuery is down, the batch stays unshipped and a sweep posts everything
unshipped (oldest state first, 500 at a time) once it answers again, backing off meanwhile.
A restarted executor sweeps once at start-up, so a crash between storing and shipping loses
nothing. Analytics de-duplicates by event id, so a batch posted twice still counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from agora_common.errors import AgoraError
from agora_common.iam.client import ServiceClient
from agora_executor.repository import EXECUTION_LOGS, SECURITY_EVENTS, ExecutorRepository

log = logging.getLogger("agora.executor.shipping")
SWEEP_BATCH = 500


def execution_event(entry: dict[str, Any]) -> dict[str, Any]:
    """An `execution_logs` entry as an analytics event."""
    return {
        "kind": "execution",
        "event_id": entry["id"],
        "occurred_at": _iso(entry["finished_at"]),
        "agent_id": entry["agent_id"],
        "agent_owner_uid": entry.get("agent_owner_uid"),
        "tool_name": entry["tool_name"],
        "caller_uid": entry.get("caller_uid"),
        "caller_kind": entry.get("caller_kind", "user"),
        "token_id": entry.get("token_id"),
        "status": entry["status"],
        "error_code": entry.get("error_code"),
        "duration_ms": entry["duration_ms"],
        "request_bytes": entry.get("request_bytes", 0),
        "response_bytes": entry.get("response_bytes", 0),
    }


def security_event(entry: dict[str, Any]) -> dict[str, Any]:
    """A `security_events` entry as an analytics event."""
    return {
        "kind": "security",
        "event_id": entry["id"],
        "occurred_at": _iso(entry["at"]),
        "type": entry["kind"],
        "caller_uid": entry.get("caller_uid"),
        "path": entry.get("path"),
    }


_CONVERT = {EXECUTION_LOGS: execution_event, SECURITY_EVENTS: security_event}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class LogShipper:
    def __init__(
        self,
        repository: ExecutorRepository,
        services: ServiceClient,
        *,
        max_backoff_s: float = 30.0,
        idle_sweep_s: float = 300.0,
    ) -> None:
        self._repo = repository
        self._services = services
        self._max_backoff = max_backoff_s
        self._idle_sweep = idle_sweep_s
        self._queue: asyncio.Queue[tuple[str, list[dict[str, Any]]]] = asyncio.Queue(1000)
        self._sweep_needed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._left_to_sweep = 0  # entries stored while a sweep was due
        self.enabled = "analytics" in services.service_urls

    def start(self) -> None:
        if not self.enabled:
            log.warning("analytics is not configured; logs stay in Firestore unshipped")
            return
        loop = asyncio.get_running_loop()
        self._sweep_needed.set()  # whatever a previous instance left unshipped
        self._tasks = [loop.create_task(self._ship_stored()), loop.create_task(self._sweep())]

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def stored(self, collection: str, entries: list[dict[str, Any]]) -> None:
        """Entries now safely in Firestore: ship them soon (or leave them to the sweep)."""
        if not self.enabled or not entries:
            return
        if self._sweep_needed.is_set():
            self._left_to_sweep += 1  # the sweep takes them; shipping now would send them twice
            return
        try:
            self._queue.put_nowait((collection, entries))
        except asyncio.QueueFull:
            self._sweep_needed.set()

    @property
    def backlog(self) -> bool:
        """Whether shipping is behind (analytics was unavailable)."""
        return self._sweep_needed.is_set()

    async def ship(self, collection: str, entries: list[dict[str, Any]]) -> bool:
        """Post entries to analytics and mark them shipped; False when analytics can't take them."""
        events = [_CONVERT[collection](entry) for entry in entries]
        try:
            response = await self._services.request(
                "analytics", "POST", "/log", json={"events": events}
            )
        except AgoraError as exc:
            log.warning("analytics unavailable; logs wait", extra={"error": exc.code})
            return False
        if response.status_code not in (200, 422):
            log.warning("analytics refused logs; they wait", extra={"status": response.status_code})
            return False
        if response.status_code == 422:
            # Never storable as they are: say so loudly, and don't post them forever.
            log.error("analytics rejected logs", extra={"count": len(entries)})
        else:
            for rejected in response.json().get("rejected", []):
                log.error("analytics rejected a log", extra={"event_id": rejected.get("event_id")})
        await self._repo.mark_shipped(collection, [entry["id"] for entry in entries])
        return True

    async def _ship_stored(self) -> None:
        while True:
            collection, entries = await self._queue.get()
            try:
                shipped = await self.ship(collection, entries)
            except Exception:
                log.exception("shipping failed")
                shipped = False
            if not shipped:
                self._sweep_needed.set()
                _drain(self._queue)  # stored already; the sweep takes them all

    async def _sweep(self) -> None:
        backoff = 1.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sweep_needed.wait(), self._idle_sweep)
            before = self._left_to_sweep
            try:
                done = await self._sweep_once()
            except Exception:
                log.exception("outbox sweep failed")
                done = False
            if done:
                backoff = 1.0
                if self._left_to_sweep == before:  # else more arrived meanwhile: sweep again
                    self._sweep_needed.clear()
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _sweep_once(self) -> bool:
        """Ship everything unshipped; False as soon as analytics can't take a batch."""
        for collection in (EXECUTION_LOGS, SECURITY_EVENTS):
            while entries := await self._repo.unshipped(collection, SWEEP_BATCH):
                if not await self.ship(collection, entries):
                    return False
                if len(entries) < SWEEP_BATCH:
                    break
        return True


def _drain(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()
