"""GCRA in real Redis: exact across instances; a per-instance fallback while Redis is down."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import pytest
import redis.asyncio as aioredis

from agora_common.clients import make_redis_client
from agora_gateway.ratelimit import Limit, LocalLimiter, RateLimiter
from agora_gateway.settings import GatewaySettings
from tests.support.redis import redis_server
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def _redis(url: str, timeout_s: float = 0.25) -> aioredis.Redis:
    """The gateway's Redis client, as its lifespan makes it (0.25 s dependency timeout)."""
    settings = GatewaySettings.model_construct(redis_url=url, dependency_timeout_s=timeout_s)
    return make_redis_client(settings)


async def test_a_burst_past_the_limit_is_refused_with_a_retry_time(
    emulator_env: dict[str, str],
) -> None:
    limiter = RateLimiter(_redis(emulator_env["REDIS_URL"]))
    limit = Limit(5, 60)
    caller = f"uid:{uuid.uuid4()}"
    decisions = [await limiter.check("write", caller, limit) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    assert 11 <= refused.retry_after_s <= 12.1  # one request per 12 s refills
    headers = refused.headers()
    assert headers["RateLimit-Limit"] == "5"
    assert headers["RateLimit-Remaining"] == "0"
    assert headers["Retry-After"] == "12"
    assert not refused.degraded
    await limiter.redis.aclose()


async def test_two_gateway_instances_share_one_limit(emulator_env: dict[str, str]) -> None:
    first = RateLimiter(_redis(emulator_env["REDIS_URL"]))
    second = RateLimiter(_redis(emulator_env["REDIS_URL"]))
    caller = f"ip:{uuid.uuid4()}"
    limit = Limit(6, 60)
    allowed = [
        (await (first if i % 2 else second).check("read", caller, limit)).allowed for i in range(10)
    ]
    assert allowed.count(True) == 6
    await first.redis.aclose()
    await second.redis.aclose()


async def test_the_limit_refills_over_time(emulator_env: dict[str, str]) -> None:
    limiter = RateLimiter(_redis(emulator_env["REDIS_URL"]))
    caller = f"uid:{uuid.uuid4()}"
    limit = Limit(2, 2.0)  # one request per second
    assert (await limiter.check("read", caller, limit)).allowed
    assert (await limiter.check("read", caller, limit)).allowed
    assert not (await limiter.check("read", caller, limit)).allowed
    await asyncio.sleep(1.1)
    assert (await limiter.check("read", caller, limit)).allowed
    await limiter.redis.aclose()


async def test_with_redis_down_it_fails_open_onto_a_local_limit_fast() -> None:
    limiter = RateLimiter(_redis("redis://127.0.0.1:9/0"), cooldown_s=60)
    limit = Limit(3, 60)
    started = time.monotonic()
    decisions = [await limiter.check("write", "uid:u1", limit) for _ in range(5)]
    elapsed = time.monotonic() - started
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert all(d.degraded for d in decisions)
    assert elapsed < 0.5, "one failed Redis call, then the cool-down skips Redis"
    await limiter.redis.aclose()


def test_the_local_limiter_does_the_same_arithmetic() -> None:
    local = LocalLimiter()
    limit = Limit(2, 10)
    assert local.check("k", limit, now=100.0).allowed
    assert local.check("k", limit, now=100.0).allowed
    refused = local.check("k", limit, now=100.0)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(5.0)
    assert local.check("k", limit, now=105.0).allowed


@pytest.mark.parametrize(
    ("text", "limit"),
    [("120/minute", Limit(120, 60)), ("20/10", Limit(20, 10)), ("5/second", Limit(5, 1))],
)
def test_limits_parse(text: str, limit: Limit) -> None:
    assert Limit.parse(text) == limit


@pytest.mark.parametrize("text", ["0/minute", "10/0", "ten/minute"])
def test_bad_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid|could not convert|literal"):
        Limit.parse(text)


def test_limits_left_out_of_the_settings_keep_their_defaults() -> None:
    from pathlib import Path

    from agora_gateway.settings import DEFAULT_RATE_LIMITS, GatewaySettings
    from tests.support.factories import local_settings_kwargs

    kwargs = local_settings_kwargs(
        Path("/k"), Path("/j"), "http://gw", rate_limits={"read": "5/minute"}
    )
    limits = GatewaySettings(**kwargs).rate_limits
    assert limits == {**DEFAULT_RATE_LIMITS, "read": "5/minute"}


# --- the limiter's Redis client: redis-py's asyncio client, shared with the rest of the gateway


async def test_many_concurrent_checks_each_get_their_own_answer(
    emulator_env: dict[str, str],
) -> None:
    # This test is about answers, not timeouts: on a busy machine hundreds of calls at once can
    # outlast the 0.25 s budget and fall back to the local limit, so it gets a generous one.
    redis = _redis(emulator_env["REDIS_URL"], timeout_s=5.0)
    limiter = RateLimiter(redis, cooldown_s=0, timeout_s=5.0)
    # Connections are opened on first use.
    await asyncio.gather(*(limiter.check("warm", f"{i}", Limit(1, 60)) for i in range(300)))
    shared, limit = f"uid:{uuid.uuid4()}", Limit(100, 60)
    decisions = await asyncio.gather(*(limiter.check("read", shared, limit) for _ in range(300)))
    assert [d.allowed for d in decisions].count(True) == 100
    assert not any(d.degraded for d in decisions)
    callers = [f"uid:{uuid.uuid4()}" for _ in range(200)]
    firsts = await asyncio.gather(*(limiter.check("read", c, Limit(1, 60)) for c in callers))
    seconds = await asyncio.gather(*(limiter.check("read", c, Limit(1, 60)) for c in callers))
    assert all(d.allowed for d in firsts) and not any(d.allowed for d in seconds)
    await limiter.redis.aclose()


async def test_a_restarted_redis_is_used_again_and_a_dead_one_fails_fast() -> None:
    port = free_port()
    limiter = RateLimiter(_redis(f"redis://127.0.0.1:{port}/0"), cooldown_s=0)
    limit = Limit(10, 60)
    with redis_server(port):
        assert not (await limiter.check("read", "uid:r", limit)).degraded
    started = time.monotonic()
    assert (await limiter.check("read", "uid:r", limit)).degraded
    assert time.monotonic() - started < 0.5
    with redis_server(port):  # a new server: no script cached, reloaded on first use
        decision = await limiter.check("read", "uid:r", limit)
        assert decision.allowed and not decision.degraded
    await limiter.redis.aclose()


async def test_a_redis_that_stops_answering_fails_over_within_the_timeout() -> None:
    port = free_port()
    limiter = RateLimiter(_redis(f"redis://127.0.0.1:{port}/0"), cooldown_s=0, timeout_s=0.2)
    limit = Limit(10, 60)
    with redis_server(port) as server:
        assert not (await limiter.check("read", "uid:s", limit)).degraded
        os.kill(server.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert (await limiter.check("read", "uid:s", limit)).degraded
            assert time.monotonic() - started < 0.5
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # The connection that gave up is not reused out of step: the next answer is its own
        # (a fresh caller's), not the late reply to the EVALSHA that gave up.
        decision = await limiter.check("read", "uid:fresh", limit)
        assert not decision.degraded and decision.remaining == 9
    await limiter.redis.aclose()


async def test_a_password_and_database_come_from_the_url() -> None:
    port = free_port()
    with redis_server(port, "--requirepass", "s3cret/pw"):
        refused = RateLimiter(_redis(f"redis://127.0.0.1:{port}/0"))
        assert (await refused.check("read", "uid:p", Limit(5, 60))).degraded, "NOAUTH"
        await refused.redis.aclose()
        limiter = RateLimiter(_redis(f"redis://:s3cret%2Fpw@127.0.0.1:{port}/3"))
        assert not (await limiter.check("read", "uid:p", Limit(5, 60))).degraded
        other = _redis(f"redis://:s3cret%2Fpw@127.0.0.1:{port}/0")
        assert await other.exists("rate_limit:read:uid:p") == 0
        assert await limiter.redis.exists("rate_limit:read:uid:p") == 1
        await limiter.redis.aclose()
        await other.aclose()
