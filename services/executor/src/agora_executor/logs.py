"""Execution logs, written off the request path in batches.

An execution's answer does not wait for its log: entries are buffered and written by one
background task, a Firestore batch at a time (every `flush_interval_s`, or at once when
`batch_size` are waiting). A failed write keeps the entries and retries with backoff; shutdown
flushes what is left. Each log is a document named by its execution id, so a retried batch
cannot double anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agora_common.models import AgentView, UserIdentity
from agora_executor.agent_client import AgentAnswer
from agora_executor.models import ExecuteRequest
from agora_executor.repository import ExecutorRepository

log = logging.getLogger("agora.executor.logs")
MAX_BATCH = 500  # Firestore's limit of writes per batch


class ExecutionLogWriter:
    def __init__(
        self,
        repository: ExecutorRepository,
        *,
        batch_size: int = 100,
        flush_interval_s: float = 0.05,
        max_buffered: int = 100_000,
        shutdown_timeout_s: float = 10.0,
        on_stored: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self._repo = repository
        self._on_stored = on_stored  # e.g. the shipper to analytics
        self._batch_size = min(batch_size, MAX_BATCH)
        self._interval = flush_interval_s
        self._max = max_buffered
        self._shutdown_timeout = shutdown_timeout_s
        self._pending: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight = 0

    def add(self, entry: dict[str, Any]) -> None:
        if len(self._pending) >= self._max:
            # Only when Firestore has been down for a long time: say so loudly, keep the newest.
            dropped = self._pending.popleft()
            log.error("execution log buffer full; dropped one", extra={"id": dropped["id"]})
        self._pending.append(entry)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def __len__(self) -> int:
        """Logs not yet stored: buffered, or in a write still under way."""
        return len(self._pending) + self._in_flight

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        """Flush everything buffered (bounded in time), then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self._shutdown_timeout)
            except TimeoutError:
                log.error("execution logs not flushed at shutdown", extra={"left": len(self)})
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _run(self) -> None:
        backoff = self._interval
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._interval)
                continue
            if await self._write_one_batch():
                backoff = self._interval
                continue
            if self._closing and backoff > 2:
                return  # aclose reports what is left
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _write_one_batch(self) -> bool:
        """Write the oldest entries; on failure put them back in front, in order."""
        size = min(self._batch_size, len(self._pending))
        batch = [self._pending.popleft() for _ in range(size)]
        self._in_flight = size
        try:
            await self._repo.add_execution_logs(batch)
        except Exception as exc:
            self._pending.extendleft(reversed(batch))
            log.warning(
                "execution logs not written; retrying",
                extra={"count": size, "error": type(exc).__name__},
            )
            return False
        else:
            if self._on_stored is not None:
                self._on_stored(batch)
            return True
        finally:
            self._in_flight = 0


def log_entry(
    execution_id: str,
    user: UserIdentity,
    agent: AgentView,
    request: ExecuteRequest,
    answer: AgentAnswer | None,
    error_code: str | None,
    duration_ms: float,
    started_at: datetime,
    request_bytes: int,
) -> dict[str, Any]:
    """`execution_logs/{id}`: everything analytics needs later, never a payload or a key."""
    if answer is None:
        status = "error"
    else:
        status = "succeeded" if answer.ok else "failed"
        error_code = answer.error_code
    entry = {
        "id": execution_id,
        "agent_id": agent.id,
        "agent_owner_uid": agent.owner_uid,
        "tool_name": request.tool_name,
        "caller_uid": user.uid,
        "caller_kind": user.kind.value,
        # The personal API token the call came with (its id, never the token): spend limits.
        "token_id": user.token_id,
        "status": status,
        "error_code": error_code,
        "duration_ms": duration_ms,
        "request_bytes": request_bytes,
        "response_bytes": answer.response_bytes if answer else 0,
        "started_at": started_at,
        "finished_at": datetime.now(UTC),
        # Cost inputs: priced by analytics from its table (per call, per second of agent time).
        "cost_inputs": {"calls": 1, "agent_seconds": round(duration_ms / 1000, 6)},
        # Analytics ships logs from here; a log stays until it is marked shipped.
        "shipped": False,
    }
    return entry
