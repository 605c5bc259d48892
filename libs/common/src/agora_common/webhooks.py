"""Signed webhooks to URLs someone configured: alerts to ops, decisions to agent owners.

Each delivery is a JSON POST with `X-Agora-Signature: t=<unix seconds>,v1=<hex>`, where v1 is
HMAC-SHA256 under the receiver's secret over `<t>.<body>`. Receivers recompute it and refuse
stale timestamps. The URL is an SSRF risk like any other supplied URL: it goes through the
egress guard's client, connections reach only the addresses it checked, redirects are not
followed. The services give it a guard with no local allowlist: never loopback or private.
A failed delivery is reported to the caller (and recorded by it), never raised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
import time
from datetime import UTC, datetime
from typing import Any

from agora_common.egress import EgressGuard
from agora_common.egress_client import make_guarded_client

log = logging.getLogger("agora.webhooks")
SIGNATURE_HEADER = "X-Agora-Signature"


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookSender:
    def __init__(
        self,
        guard: EgressGuard,
        *,
        timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._guard = guard
        self._client = make_guarded_client(guard, timeout_s=timeout_s, ssl_context=ssl_context)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, secret: str, event: str, data: Any) -> dict[str, Any]:
        """Deliver once; answers what happened: {status, http_status?, error?, at}."""
        body = json.dumps({"event": event, "data": data}, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: webhook_signature(secret, body, int(time.time())),
        }
        outcome: dict[str, Any] = {"at": datetime.now(UTC)}
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except Exception as exc:  # refused by the guard, unreachable, timed out
            log.warning(
                "webhook not delivered", extra={"event": event, "error": type(exc).__name__}
            )
            return outcome | {"status": "failed", "error": type(exc).__name__}
        if response.is_success:
            return outcome | {"status": "delivered", "http_status": response.status_code}
        log.warning("webhook refused", extra={"event": event, "status": response.status_code})
        return outcome | {"status": "failed", "http_status": response.status_code}
