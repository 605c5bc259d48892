"""Work that runs beside an answer, never before it: best effort, bounded, awaited at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("agora.background")


class BesideTheAnswer:
    """Fire-and-forget coroutines, at most `limit` at a time (more are dropped, and logged)."""

    def __init__(self, name: str, *, limit: int = 256) -> None:
        self._name = name
        self._limit = limit
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._tasks) >= self._limit:
            work.close()
            log.warning("background work dropped: too much in flight", extra={"name": self._name})
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Let what is in flight finish (bounded), then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
