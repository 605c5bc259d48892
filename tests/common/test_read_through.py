"""Read-through values: one load for concurrent misses, refreshed ahead, never kept stale."""

from __future__ import annotations

import asyncio

import pytest

from agora_common.cache import ReadThrough


class Source:
    """Counts loads; each answers `value` after `delay_s`, or raises `error`."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.loads = 0
        self.value = "v1"
        self.error: Exception | None = None

    async def load(self, key: str) -> str:
        self.loads += 1
        value, error = self.value, self.error  # what the source holds when the read begins
        await asyncio.sleep(self.delay_s)
        if error is not None:
            raise error
        return f"{key}:{value}"


async def test_concurrent_misses_share_one_load() -> None:
    source = Source(delay_s=0.05)
    cache = ReadThrough(source.load, ttl_s=10)
    assert await asyncio.gather(*(cache.get("a") for _ in range(10))) == ["a:v1"] * 10
    assert source.loads == 1
    assert await cache.get("a") == "a:v1"
    assert source.loads == 1


async def test_past_half_its_life_an_entry_is_reloaded_while_it_is_served() -> None:
    source = Source(delay_s=0.05)
    cache = ReadThrough(source.load, ttl_s=0.2)
    assert await cache.get("a") == "a:v1"
    source.value = "v2"
    await asyncio.sleep(0.12)  # past half of its life, not expired
    started = asyncio.get_running_loop().time()
    assert await cache.get("a") == "a:v1"  # served at once, reloading behind
    assert asyncio.get_running_loop().time() - started < 0.02
    await asyncio.sleep(0.08)
    assert await cache.get("a") == "a:v2"
    assert source.loads == 2


async def test_an_expired_entry_is_waited_for() -> None:
    source = Source()
    cache = ReadThrough(source.load, ttl_s=0.05)
    await cache.get("a")
    source.value = "v2"
    await asyncio.sleep(0.06)
    assert await cache.get("a") == "a:v2"


async def test_a_failed_reload_keeps_the_entry_until_it_expires() -> None:
    source = Source()
    cache = ReadThrough(source.load, ttl_s=0.2)
    await cache.get("a")
    source.error = RuntimeError("registry down")
    await asyncio.sleep(0.12)
    assert await cache.get("a") == "a:v1"  # starts a reload, which fails
    await asyncio.sleep(0.01)
    assert await cache.get("a") == "a:v1"
    await asyncio.sleep(0.1)  # expired now: the failure reaches the caller
    with pytest.raises(RuntimeError, match="registry down"):
        await cache.get("a")


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    source = Source(delay_s=0.02)
    source.error = LookupError("no such agent")
    cache = ReadThrough(source.load, ttl_s=10)
    results = await asyncio.gather(*(cache.get("a") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    source.error = None
    assert await cache.get("a") == "a:v1"
    assert source.loads == 2


async def test_a_caller_giving_up_does_not_cancel_the_others() -> None:
    source = Source(delay_s=0.05)
    cache = ReadThrough(source.load, ttl_s=10)
    impatient = asyncio.ensure_future(cache.get("a"))
    patient = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == "a:v1"
    assert source.loads == 1


async def test_a_load_begun_before_a_discard_keeps_nothing() -> None:
    source = Source(delay_s=0.05)
    cache = ReadThrough(source.load, ttl_s=10)
    early = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0.01)
    source.value = "v2"
    cache.discard("a")  # e.g. the status changed while the old one was being read
    assert await early == "a:v1"
    assert await cache.get("a") == "a:v2"


async def test_a_get_after_a_discard_never_joins_a_load_begun_before() -> None:
    source = Source(delay_s=0.05)
    cache = ReadThrough(source.load, ttl_s=10)
    early = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0.01)  # the old value is being read
    source.value = "v2"
    cache.discard("a")  # a write on this instance
    assert await cache.get("a") == "a:v2"  # while the early load is still under way
    assert await early == "a:v1"
    assert source.loads == 2
    assert await cache.get("a") == "a:v2"  # and the early load did not overwrite it


async def test_fresh_reads_and_a_zero_ttl_always_load() -> None:
    source = Source()
    cache = ReadThrough(source.load, ttl_s=10)
    await cache.get("a")
    source.value = "v2"
    assert await cache.get("a", fresh=True) == "a:v2"
    assert await cache.get("a") == "a:v2"
    uncached = ReadThrough(source.load, ttl_s=0)
    await uncached.get("b")
    await uncached.get("b")
    assert source.loads == 4


async def test_with_stale_s_an_expired_entry_is_served_while_its_reload_finishes() -> None:
    source = Source()
    cache = ReadThrough(source.load, ttl_s=0.2, stale_s=0.4)
    assert await cache.get("a") == "a:v1"
    source.value, source.delay_s = "v2", 0.15  # the source slows: the reload outlives the entry
    await asyncio.sleep(0.12)
    assert await cache.get("a") == "a:v1"  # past half its life: the reload starts
    await asyncio.sleep(0.1)  # expired, the reload still under way
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cache.get("a") == "a:v1"  # served at once, not waited for
    assert loop.time() - started < 0.02
    assert source.loads == 2
    await asyncio.sleep(0.07)  # the reload is done
    started = loop.time()
    assert await cache.get("a") == "a:v2"
    assert loop.time() - started < 0.02


async def test_with_stale_s_and_no_reload_under_way_an_expired_entry_is_waited_for() -> None:
    source = Source(delay_s=0.03)
    cache = ReadThrough(source.load, ttl_s=0.05, stale_s=1.0)
    await cache.get("a")
    source.value = "v2"
    await asyncio.sleep(0.06)  # expired without traffic: nothing was reloading
    assert await cache.get("a") == "a:v2"


async def test_with_stale_s_a_failing_source_still_reaches_callers() -> None:
    source = Source(delay_s=0.01)
    cache = ReadThrough(source.load, ttl_s=0.1, stale_s=1.0)
    await cache.get("a")
    source.error = RuntimeError("registry down")
    await asyncio.sleep(0.06)
    assert await cache.get("a") == "a:v1"  # starts a background reload, which fails
    await asyncio.sleep(0.06)  # expired, and no reload under way any more
    with pytest.raises(RuntimeError, match="registry down"):
        await cache.get("a")


async def test_without_stale_s_an_expired_entry_waits_for_the_reload_under_way() -> None:
    source = Source()
    cache = ReadThrough(source.load, ttl_s=0.1)
    await cache.get("a")
    source.value, source.delay_s = "v2", 0.15
    await asyncio.sleep(0.06)
    assert await cache.get("a") == "a:v1"  # the reload starts
    await asyncio.sleep(0.06)  # expired: never served past its TTL
    assert await cache.get("a") == "a:v2"
