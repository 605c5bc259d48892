"""Small bounded in-process caches: entries that expire at their own time, and read-through
values refreshed ahead of expiry."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """Bounded LRU whose entries each carry an expiry (e.g. a verified token's `exp`)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._max = max_entries

    def get(self, key: str, now: float | None = None) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires_at, value = item
        if expires_at <= (time.time() if now is None else now):
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V, expires_at: float) -> None:
        self._items[key] = (expires_at, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def discard(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class ReadThrough(Generic[V]):
    """Values loaded by `load(key)` and kept for `ttl_s`, so that the hot path rarely waits.

    Concurrent misses for one key share one load. Once an entry is past `refresh_at` of its
    life it is reloaded in the background while callers keep getting it; callers wait only for
    a key never loaded or expired (no traffic for a while, or reloads failing). A value is
    therefore never older than `ttl_s` plus one load, as without refreshing. A failed
    background reload keeps the entry until it expires; a failed foreground load raises to
    every waiter. `ttl_s == 0` keeps nothing.

    `stale_s` lets a slow source stall nobody: past its TTL, an entry is still served for up to
    `stale_s` while a reload is under way (begun ahead of expiry, or by a waiting caller). A
    value is then never older than `ttl_s + stale_s`; with no reload under way, or past that
    age, callers wait as before, so a failing source still reaches them.
    """

    def __init__(
        self,
        load: Callable[[str], Awaitable[V]],
        *,
        ttl_s: float,
        max_entries: int = 4096,
        refresh_at: float = 0.5,
        stale_s: float = 0.0,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._stale_s = stale_s
        self._refresh_after_s = ttl_s * refresh_at
        self._entries: ExpiringCache[tuple[float, V]] = ExpiringCache(max_entries)
        self._loading: dict[str, asyncio.Task[V]] = {}
        self._generation = 0  # bumped by discard/clear: a load begun before keeps nothing

    async def get(self, key: str, *, fresh: bool = False) -> V:
        if fresh:  # loaded after this call began, never an earlier load still under way
            return await asyncio.shield(self._start(key))
        now = time.time()
        entry = self._entries.get(key, now)
        if entry is not None:
            loaded_at, value = entry
            age = now - loaded_at
            if age < self._ttl_s:
                if age >= self._refresh_after_s and key not in self._loading:
                    self._start(key)  # in the background; this caller goes on with its value
                return value
            if key in self._loading:  # expired, kept for `stale_s`: served while reloading
                return value
        # Shielded: a caller that gives up (a client gone) must not cancel the others' load.
        return await asyncio.shield(self._loading.get(key) or self._start(key))

    def discard(self, key: str) -> None:
        """Forget `key`: the next get loads it afresh, never joining a load begun before."""
        self._generation += 1
        self._entries.discard(key)
        self._loading.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._loading.clear()

    def _start(self, key: str) -> asyncio.Task[V]:
        task = asyncio.get_running_loop().create_task(self._load_and_keep(key))
        self._loading[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return task

    def _finished(self, key: str, task: asyncio.Task[V]) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]
        if not task.cancelled():
            task.exception()  # a failed background reload is no error: the entry stays

    async def _load_and_keep(self, key: str) -> V:
        loaded_at, generation = time.time(), self._generation
        value = await self._load(key)
        if self._ttl_s > 0 and generation == self._generation:
            self._entries.put(key, (loaded_at, value), loaded_at + self._ttl_s + self._stale_s)
        return value
