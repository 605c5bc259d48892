"""A circuit breaker: a dead dependency fails fast, and is retried by itself after a cool-down."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `reset_after_s` one trial call
    is let through (half-open): success closes it, failure opens it again."""

    failure_threshold: int = 5
    reset_after_s: float = 5.0
    _failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _trial_in_flight: bool = field(default=False, init=False)

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if time.monotonic() - self._opened_at >= self.reset_after_s:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go ahead now."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_in_flight or self._failures >= self.failure_threshold:
            self._opened_at = time.monotonic()
        self._trial_in_flight = False

    def release(self) -> None:
        """End a trial call that produced no outcome (e.g. the client's own error)."""
        self._trial_in_flight = False

    def retry_after_s(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_after_s - (time.monotonic() - self._opened_at))
