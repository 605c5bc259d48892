"""The circuit breaker's states."""

from __future__ import annotations

import time

from agora_common.breaker import CircuitBreaker


def test_it_opens_after_consecutive_failures_and_recovers_after_a_trial() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=0.1)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    time.sleep(0.11)
    assert breaker.state == "half-open"
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # and only one
    breaker.record_success()
    assert breaker.state == "closed"


def test_a_failed_trial_opens_it_again() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=0.05)
    breaker.record_failure()
    time.sleep(0.06)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert 0 < breaker.retry_after_s() <= 0.05


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=1)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"
