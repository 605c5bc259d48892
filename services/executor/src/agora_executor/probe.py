"""The probe of a freshly deployed revision: does it serve what its vetted card declares?"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import httpx

from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError, BadGateway
from agora_common.iam.client import ServiceAuth
from agora_common.tracing import outgoing_trace_headers

log = logging.getLogger("agora.executor.probe")
PROBE_TIMEOUT_S = 5.0
# A card is at most 128 KiB as canonical JSON; the agent's own rendering may be looser.
MAX_PROBE_BYTES = 512 * 1024
CARD_PATH = "/.well-known/agent-card.json"


class DeployProbeFailed(BadGateway):
    code = "DEPLOY_PROBE_FAILED"
    message = "The deployed revision does not serve what its card declares; it was not activated"


class _TooLarge(Exception):
    """The answer passed MAX_PROBE_BYTES."""


class RevisionProbe:
    """GET `/health` and the agent's own card, on the executor's guarded client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        guard: EgressGuard,
        identity: ServiceAuth,
        *,
        timeout_s: float = PROBE_TIMEOUT_S,
    ) -> None:
        self._http = http  # the guarded client (agora_common.egress_client)
        self._guard = guard
        self._identity = identity
        self._timeout_s = timeout_s

    async def findings(self, url: str, declared: Collection[str]) -> list[dict[str, Any]]:
        """What is wrong with the revision at `url`; empty when healthy and serving `declared`."""
        health = await self._get(url, "/health")
        if isinstance(health, dict):
            return [health]
        status, _ = health
        if status != 200:
            return [{"check": "health", "message": f"/health answered {status}", "status": status}]
        card = await self._get(url, CARD_PATH)
        if isinstance(card, dict):
            return [card]
        status, raw = card
        served = _tool_names(raw) if status == 200 else None
        if served is None:
            message = f"{CARD_PATH} answered {status}" if status != 200 else "not a card"
            return [{"check": "card", "message": message, "status": status}]
        missing = sorted(set(declared) - served)
        if missing:
            return [
                {
                    "check": "card",
                    "message": "Tools declared in the card are missing from the deployed agent",
                    "missing": missing,
                }
            ]
        return []

    async def _get(self, url: str, path: str) -> tuple[int, bytes] | dict[str, Any]:
        """(status, body), or a finding when the revision could not be asked."""
        try:
            self._guard.check_url(url)
            parts = urlsplit(url)
            # Deployed revisions answer only the executor's identity (Cloud Run's invoker rule).
            authorization = await self._identity.authorization(f"{parts.scheme}://{parts.netloc}")
            request = httpx.Request(
                "GET",
                f"{url.rstrip('/')}{path}",
                headers={"authorization": authorization, **outgoing_trace_headers()},
            )
            async with asyncio.timeout(self._timeout_s):
                response = await self._http.send(request, stream=True)
                try:
                    raw = await _read_capped(response)
                finally:
                    await response.aclose()
        except AgoraError as exc:
            return {"check": path, "message": exc.message, "error": exc.code}
        except TimeoutError:
            return {"check": path, "message": f"no answer within {self._timeout_s:g} s"}
        except _TooLarge:
            return {"check": path, "message": f"answer over {MAX_PROBE_BYTES} bytes"}
        except (httpx.HTTPError, ValueError, UnicodeError) as exc:
            log.warning("revision probe failed", extra={"error": type(exc).__name__})
            return {"check": path, "message": "unreachable", "error": type(exc).__name__}
        return response.status_code, raw


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    stream: Any = response.stream
    async for chunk in stream:
        size += len(chunk)
        if size > MAX_PROBE_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _tool_names(raw: bytes) -> set[str] | None:
    """The tool names a served card lists (`tools`, or A2A's `skills`); None if it is no card."""
    try:
        card = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(card, dict):
        return None
    tools = card.get("tools", card.get("skills"))
    if not isinstance(tools, list):
        return None
    return {t["name"] for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)}
