"""Answers of list and search routes cached in Redis, invalidated in O(1) by a generation counter.

The registry's search and the tool catalog each keep one, under their own name. Every key
includes the current generation; every write that could change a result bumps it, so older
entries are never read again and expire on their own. Redis trouble never fails a request: reads
fall through to Firestore and a failed bump is logged.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("agora.cache")

# After a failure, reads skip Redis this long so a dead Redis costs one timeout, not one per call.
_BACKOFF_S = 5.0
_ERRORS = (RedisError, OSError, TimeoutError)


class AnswerCache:
    """get/put of answers by fingerprint, plus invalidate() for writers."""

    def __init__(
        self, redis: aioredis.Redis | None, ttl_s: int, namespace: str, *, name: str
    ) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._name = name
        # The project id: services of different projects may share one Redis (tests do).
        self._namespace = namespace
        self._generation_key = f"{name}:generation:{namespace}"
        self._skip_until = 0.0

    async def get(self, fingerprint: str) -> tuple[str | None, bytes | None]:
        """(key to put the answer under, cached answer); (None, None) when Redis is unusable."""
        if self._redis is None or time.monotonic() < self._skip_until:
            return None, None
        try:
            # The shared client is made with decode_responses=False: values are bytes.
            generation = cast(bytes | None, await self._redis.get(self._generation_key))
            generation_text = generation.decode() if generation else "0"
            key = cache_key(self._name, self._namespace, generation_text, fingerprint)
            return key, cast(bytes | None, await self._redis.get(key))
        except _ERRORS as exc:
            self._failed("read", exc)
            return None, None

    async def put(self, key: str | None, answer: bytes) -> None:
        if self._redis is None or key is None:
            return
        try:
            await self._redis.set(key, answer, ex=self._ttl_s)
        except _ERRORS as exc:
            self._failed("write", exc)

    async def invalidate(self) -> None:
        """Bump the generation: every cached answer is stale from now on."""
        if self._redis is None:
            return
        try:
            await self._redis.incr(self._generation_key)
        except _ERRORS as exc:
            # Entries cached before this write may be served until their TTL if Redis recovers.
            self._failed("invalidation", exc)

    def _failed(self, what: str, exc: BaseException) -> None:
        self._skip_until = time.monotonic() + _BACKOFF_S
        log.warning(
            "%s cache %s failed; answering from Firestore",
            self._name,
            what,
            extra={"error": repr(exc)},
        )


def key_prefix(name: str) -> str:
    """Where a cache's answers live in Redis: `cache:<name>:`."""
    return f"cache:{name}:"


def cache_key(name: str, namespace: str, generation: str, fingerprint: str) -> str:
    digest = hashlib.sha256(f"{namespace}\x00{generation}\x00{fingerprint}".encode()).hexdigest()
    return f"{key_prefix(name)}{digest}"
