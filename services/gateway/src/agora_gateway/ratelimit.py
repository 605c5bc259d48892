"""Rate limits: GCRA in Redis (one EVALSHA through the service's redis-py client), falling back
to a per-instance limit when Redis fails.

GCRA keeps one timestamp per key (the "theoretical arrival time"), so it is exact across any number
of gateway instances: every instance asks Redis, and the script reads Redis's own clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from agora_common.cache import ExpiringCache

log = logging.getLogger("agora.gateway.ratelimit")

# KEYS[1]: the bucket. ARGV: emission interval (µs per request), period (µs).
# Returns {allowed, remaining, retry_after_us, reset_us}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """`requests` per `period_s`, allowed in a burst of up to `requests`."""

    requests: int
    period_s: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        """'120/60' or '120/minute' style: requests per period in seconds or a unit."""
        count, _, period = text.partition("/")
        units = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
        seconds = units.get(period.strip()) or float(period)
        limit = cls(int(count), seconds)
        if limit.requests < 1 or limit.period_s <= 0:
            raise ValueError(f"invalid rate limit {text!r}")
        return limit

    @property
    def interval_us(self) -> int:
        return max(1, int(self.period_s * 1_000_000 / self.requests))

    @property
    def period_us(self) -> int:
        return int(self.period_s * 1_000_000)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: float
    reset_s: float
    degraded: bool = False

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_s)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return headers


class LocalLimiter:
    """The same GCRA in process memory: the fallback while Redis is unreachable."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._tats: ExpiringCache[float] = ExpiringCache(max_keys)

    def check(self, key: str, limit: Limit, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        interval = limit.period_s / limit.requests
        tat = max(self._tats.get(key, now) or now, now)
        new_tat = tat + interval
        allow_at = new_tat - limit.period_s
        if now < allow_at:
            return Decision(False, limit.requests, 0, allow_at - now, tat - now, degraded=True)
        self._tats.put(key, new_tat, new_tat)
        remaining = math.floor((now - allow_at) / interval)
        return Decision(True, limit.requests, remaining, 0.0, new_tat - now, degraded=True)


class RateLimiter:
    """Redis first; after a Redis failure, the local limiter for `cooldown_s` before retrying.

    Failing open onto a per-instance limit keeps the gateway serving when Redis is down while still
    bounding each caller (N instances allow at most N times the limit meanwhile).
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "rate_limit",
        cooldown_s: float = 5.0,
        timeout_s: float = 0.25,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.cooldown_s = cooldown_s
        # The whole check, redis-py's own retries and reconnects included: a Redis that does
        # not answer costs a request at most this long, then the local limit takes over.
        self.timeout_s = timeout_s
        self.local = LocalLimiter()
        # EVALSHA, loading the script again when Redis has lost it (a restart).
        self._gcra = redis.register_script(GCRA_LUA)
        self._redis_down_until = 0.0

    async def check(self, group: str, caller: str, limit: Limit) -> Decision:
        key = f"{self.prefix}:{group}:{caller}"
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self._check_redis(key, limit)
            except (RedisError, OSError, TimeoutError) as exc:
                self._redis_down_until = time.monotonic() + self.cooldown_s
                log.warning(
                    "rate limiting falls back to the local limiter",
                    extra={"error": type(exc).__name__, "cooldown_s": self.cooldown_s},
                )
        return self.local.check(key, limit)

    async def _check_redis(self, key: str, limit: Limit) -> Decision:
        async with asyncio.timeout(self.timeout_s):
            result = await self._gcra(keys=[key], args=[limit.interval_us, limit.period_us])
        allowed, remaining, retry_us, reset_us = (int(x) for x in result)
        return Decision(
            bool(allowed), limit.requests, remaining, retry_us / 1e6, max(0, reset_us) / 1e6
        )
