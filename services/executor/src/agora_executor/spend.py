"""Monthly spend limits of personal API tokens, checked before an agent is called.

A token may carry `monthly_spend_limit_usd` (the gateway forwards it with the identity). What the
token's executions cost this calendar month (UTC) is analytics' answer
(`GET /internal/tokens/{token_id}/spend?since=<month start>`), kept for `ttl_s` per token and
month so not every execution queries BigQuery. A token at or past its limit is refused with
402 `SPEND_LIMIT_REACHED`. Analytics unavailable: refused with 503 `SPEND_UNAVAILABLE` (fail
closed), since the limit is one the user asked for. The answer lags by the outbox's shipping
and the cache, so a burst may pass the limit by that much; the next check refuses it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

from agora_common.cache import ReadThrough
from agora_common.errors import AgoraError, ServiceUnavailable
from agora_common.iam.client import ServiceClient
from agora_common.models import UserIdentity

log = logging.getLogger("agora.executor.spend")
MICROS_PER_USD = 1_000_000


class SpendLimitReached(AgoraError):
    status_code, code, message = 402, "SPEND_LIMIT_REACHED", "The token's monthly spend limit"


class SpendUnavailable(ServiceUnavailable):
    code = "SPEND_UNAVAILABLE"
    message = "The token's spending cannot be checked now; try again later"


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s calendar month, in UTC."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def limit_micros(limit_usd: float) -> int:
    """The limit in micro-USD, as analytics prices executions (exact for any decimal input)."""
    return int(Decimal(repr(limit_usd)) * MICROS_PER_USD)


# (token id, month start) -> the month's cost in micro-USD.
SpendSource = Callable[[str, datetime], Awaitable[int]]


def analytics_spend(services: ServiceClient, *, timeout_s: float) -> SpendSource:
    """The month's cost of one token, asked of analytics with the executor's identity; an answer
    slower than `timeout_s` is a 503 (the execution waits for it)."""

    async def load(token_id: str, since: datetime) -> int:
        response = await services.request(
            "analytics",
            "GET",
            f"/internal/tokens/{token_id}/spend",
            params={"since": since.isoformat()},
            timeout=timeout_s,
        )
        if response.status_code != 200:
            log.warning("token spend not answered", extra={"status": response.status_code})
            raise SpendUnavailable()
        try:
            return int(response.json()["cost_micros"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("token spend answered badly")
            raise SpendUnavailable() from exc

    return load


class SpendLimits:
    """Refuses a token whose month's cost has reached its limit; other callers pass untouched."""

    def __init__(
        self,
        source: SpendSource,
        *,
        ttl_s: float,
        max_entries: int = 4096,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._clock = clock
        self._spent: ReadThrough[int] = ReadThrough(
            self._load, ttl_s=ttl_s, max_entries=max_entries
        )

    async def check(self, user: UserIdentity) -> None:
        if user.token_id is None or user.token_spend_limit_usd is None:
            return
        since = month_start(self._clock())
        spent = await self.spent(user.token_id, since)
        limit = limit_micros(user.token_spend_limit_usd)
        if spent >= limit:
            raise SpendLimitReached(
                f"This token's monthly spend limit of ${limit / MICROS_PER_USD:.6g} is reached: "
                f"${spent / MICROS_PER_USD:.6g} spent since {since:%Y-%m-%d} (UTC)",
                details=[
                    {
                        "limit_usd": limit / MICROS_PER_USD,
                        "month_to_date_usd": spent / MICROS_PER_USD,
                        "month_start": since.isoformat(),
                    }
                ],
            )

    async def spent(self, token_id: str, since: datetime) -> int:
        """The month's cost in micro-USD (cached per token and month)."""
        try:
            return await self._spent.get(f"{since.isoformat()}|{token_id}")
        except SpendUnavailable:
            raise
        except AgoraError as exc:  # analytics unreachable, or slow: fail closed, fast
            raise SpendUnavailable() from exc

    async def _load(self, key: str) -> int:
        since, token_id = key.split("|", 1)
        return await self._source(token_id, datetime.fromisoformat(since))
