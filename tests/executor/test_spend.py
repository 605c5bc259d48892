"""Spend limits of personal tokens: the month boundary, the limit, the cache, failing closed.

The source of a token's spend is a plain function here (analytics over HTTP is the e2e test's,
tests/e2e/test_spend_limits.py); what is tested is the executor's own logic around it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agora_common.errors import ServiceUnavailable
from agora_common.models import CallerKind, TokenScope, UserIdentity
from agora_executor.spend import (
    SpendLimitReached,
    SpendLimits,
    SpendUnavailable,
    limit_micros,
    month_start,
)


def token_user(limit: float | None = 0.001, token_id: str = "tok-1") -> UserIdentity:
    return UserIdentity(
        kind=CallerKind.USER,
        uid="user-1",
        token_id=token_id,
        token_scope=TokenScope.EXECUTE,
        token_spend_limit_usd=limit,
    )


class Ledger:
    """What analytics would answer: micro-USD per token, and every question asked."""

    def __init__(self, spent: dict[str, int] | None = None) -> None:
        self.spent = spent or {}
        self.asked: list[tuple[str, datetime]] = []
        self.down = False

    async def __call__(self, token_id: str, since: datetime) -> int:
        self.asked.append((token_id, since))
        if self.down:
            raise ServiceUnavailable("analytics is unreachable")
        return self.spent.get(token_id, 0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (datetime(2026, 12, 3, 6, 53, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        # Months are UTC's: 1 March 01:00 in UTC+2 is still February in UTC.
        (
            datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 2, 1, tzinfo=UTC),
        ),
    ],
)
def test_the_month_starts_on_the_first_at_midnight_utc(now: datetime, start: datetime) -> None:
    assert month_start(now) == start
    assert month_start(now).tzinfo == UTC


def test_limits_are_exact_in_micro_usd() -> None:
    assert limit_micros(0.0003) == 300
    assert limit_micros(10) == 10_000_000
    assert limit_micros(0.1 + 0.2) == 300_000  # 0.30000000000000004 USD: not a micro more


async def test_a_token_under_its_limit_passes_and_at_it_is_refused_with_both_amounts() -> None:
    ledger = Ledger({"tok-1": 999})
    limits = SpendLimits(ledger, ttl_s=0)
    await limits.check(token_user(0.001))

    ledger.spent["tok-1"] = 1_000
    with pytest.raises(SpendLimitReached) as refused:
        await limits.check(token_user(0.001))
    error = refused.value
    assert (error.status_code, error.code) == (402, "SPEND_LIMIT_REACHED")
    assert "$0.001" in error.message and "spent" in error.message
    assert error.details is not None
    assert error.details[0]["limit_usd"] == 0.001
    assert error.details[0]["month_to_date_usd"] == 0.001


async def test_callers_without_a_limited_token_never_ask() -> None:
    ledger = Ledger({"tok-1": 10**9})
    limits = SpendLimits(ledger, ttl_s=30)
    await limits.check(UserIdentity(kind=CallerKind.USER, uid="user-1"))  # an ID token
    await limits.check(token_user(limit=None))  # a token without a limit
    assert ledger.asked == []


async def test_the_spend_is_asked_from_the_month_start_and_cached_per_token_and_month() -> None:
    ledger = Ledger({"tok-1": 10, "tok-2": 20})
    clock = Clock(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    limits = SpendLimits(ledger, ttl_s=30, clock=clock)
    december = datetime(2026, 12, 1, tzinfo=UTC)

    for _ in range(5):
        await limits.check(token_user(token_id="tok-1"))
    await limits.check(token_user(token_id="tok-2"))
    assert ledger.asked == [("tok-1", december), ("tok-2", december)]

    # A new month is a new question at once, however fresh December's answer is.
    clock.now = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
    await limits.check(token_user(token_id="tok-1"))
    assert ledger.asked[-1] == ("tok-1", datetime(2027, 1, 1, tzinfo=UTC))
    assert len(ledger.asked) == 3


async def test_the_cache_expires_so_new_spending_is_seen() -> None:
    ledger = Ledger({"tok-1": 0})
    limits = SpendLimits(ledger, ttl_s=0.2)
    await limits.check(token_user(0.001))
    ledger.spent["tok-1"] = 5_000
    await limits.check(token_user(0.001))  # still the cached answer
    await asyncio.sleep(0.25)
    with pytest.raises(SpendLimitReached):
        await limits.check(token_user(0.001))


async def test_concurrent_checks_share_one_question() -> None:
    ledger = Ledger({"tok-1": 1})
    limits = SpendLimits(ledger, ttl_s=30)
    await asyncio.gather(*(limits.check(token_user()) for _ in range(20)))
    assert len(ledger.asked) == 1


async def test_the_cache_is_bounded() -> None:
    ledger = Ledger()
    limits = SpendLimits(ledger, ttl_s=30, max_entries=2)
    for token_id in ("a", "b", "c", "a"):
        await limits.check(token_user(token_id=token_id))
    # "a" was evicted by "c" (least recently used), so it is asked again.
    assert [token for token, _ in ledger.asked] == ["a", "b", "c", "a"]


async def test_analytics_unavailable_fails_closed_with_a_503() -> None:
    ledger = Ledger()
    ledger.down = True
    limits = SpendLimits(ledger, ttl_s=30)
    with pytest.raises(SpendUnavailable) as refused:
        await limits.check(token_user())
    assert (refused.value.status_code, refused.value.code) == (503, "SPEND_UNAVAILABLE")
    # Nothing cached from a failure: once analytics answers, the token works again.
    ledger.down = False
    await limits.check(token_user())
