"""Signatures accepted within the timestamp window, so a captured call cannot be replayed."""

from __future__ import annotations

import heapq

from agora_agent_sdk.signing import TOLERANCE_SECONDS, SignatureError

# ~200 bytes each: room for ~4,000 calls a second within the 60 s window, in ~50 MB.
DEFAULT_MAX_ENTRIES = 262_144


class ReplayGuardFull(Exception):
    """More fresh signatures than the guard holds: refusing beats forgetting one."""


class ReplayGuard:
    """A bounded in-memory set of accepted signatures, each kept until its timestamp goes stale."""

    def __init__(
        self, tolerance: int = TOLERANCE_SECONDS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._tolerance = tolerance
        self._max_entries = max_entries
        self._seen: set[str] = set()
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def record(self, signature: str, timestamp: int, now: float) -> None:
        """Remember `signature`; raise SignatureError if it was seen, ReplayGuardFull if full."""
        self._forget_stale(now)
        if signature in self._seen:
            raise SignatureError("REPLAYED", "This signed request was already accepted")
        if len(self._seen) >= self._max_entries:
            raise ReplayGuardFull
        self._seen.add(signature)
        # Past timestamp + tolerance the timestamp check refuses the call on its own.
        heapq.heappush(self._expiries, (timestamp + self._tolerance, signature))

    def _forget_stale(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, signature = heapq.heappop(self._expiries)
            self._seen.discard(signature)
