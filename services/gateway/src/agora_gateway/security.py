"""Bursts of refused requests (401/403 at the gateway) reported to analytics as security events.

Refusals are counted per client address in Redis, in fixed windows shared by every gateway
instance; the request that reaches the threshold reports one `auth_failure_burst` event, named
after the address and window so a repeat is the same event. Counting and reporting run beside
the answer, never before it, and are best effort: Redis or analytics being down costs only the
report (logged), never a request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime

import redis.asyncio as aioredis

from agora_common.background import BesideTheAnswer
from agora_common.iam.client import ServiceClient

log = logging.getLogger("agora.gateway.security")


class RefusalWatch:
    def __init__(
        self,
        redis: aioredis.Redis,
        services: ServiceClient,
        *,
        threshold: int,
        window_s: int,
        timeout_s: float = 2.0,
    ) -> None:
        self._redis = redis
        self._services = services
        self._threshold = threshold
        self._window_s = window_s
        self._timeout_s = timeout_s
        self._beside = BesideTheAnswer("refusal watch")
        self.enabled = "analytics" in services.service_urls

    def refused(self, client_ip: str, status: int, path: str) -> None:
        if self.enabled:
            self._beside.spawn(self._count(client_ip, status, path))

    async def aclose(self) -> None:
        await self._beside.aclose(timeout_s=1.0)

    async def _count(self, client_ip: str, status: int, path: str) -> None:
        window = int(time.time()) // self._window_s
        key = f"refusals:{client_ip}:{window}"
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, self._window_s * 2)
                    count, _ = await pipe.execute()
                if count != self._threshold:
                    return
                event_id = "burst-" + hashlib.sha256(key.encode()).hexdigest()[:32]
                event = {
                    "kind": "security",
                    "event_id": event_id,
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "type": "auth_failure_burst",
                    "client_ip": client_ip[:64],
                    "count": count,
                    "path": path[:512],
                }
                response = await self._services.request(
                    "analytics", "POST", "/log", json={"events": [event]}
                )
                if response.status_code != 200:
                    log.warning("burst not recorded", extra={"status": response.status_code})
                else:
                    log.warning("refusal burst", extra={"client_ip": client_ip, "count": count})
        except Exception as exc:  # best effort by design
            log.warning("refusal watch failed", extra={"error": type(exc).__name__})
