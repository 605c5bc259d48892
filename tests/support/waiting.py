"""Waiting for what happens beside an answer (shipping, scans): poll, never sleep blindly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], *, seconds: float = 30, every: float = 0.25) -> T:
    """The first truthy answer of `check` within `seconds`; else its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


async def eventually_async(
    check: Callable[[], Awaitable[T]], *, seconds: float = 30, every: float = 0.1
) -> T:
    """`eventually` for a check that awaits (an async client's calls)."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(every)
