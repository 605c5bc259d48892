"""Calls an agent's own container: signed, to a checked address, bounded in time and size."""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import httpx

from agora_agent_sdk.signing import sign_request
from agora_common.cache import ExpiringCache
from agora_common.egress import EgressGuard, EgressRefused
from agora_common.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from agora_common.tracing import outgoing_trace_headers

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
MAX_ERROR_MESSAGE = 500


class AgentUnavailable(ServiceUnavailable):
    code, message = "AGENT_UNAVAILABLE", "The agent is not reachable"


class AgentTimeout(GatewayTimeout):
    code, message = "AGENT_TIMEOUT", "The agent did not answer in time"


class AgentBadAnswer(BadGateway):
    code, message = "AGENT_BAD_ANSWER", "The agent answered with something that is not a result"


class AgentRefusedSignature(AgentBadAnswer):
    """The agent did not accept the signature (so it ran nothing): another secret may."""

    code, message = "AGENT_AUTH_FAILED", "The agent refused the platform's signature"


@dataclass(frozen=True, slots=True)
class AgentAnswer:
    ok: bool
    result: Any = None
    error_code: str | None = None
    error_message: str | None = None
    response_bytes: int = 0


class AgentClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        guard: EgressGuard,
        *,
        connect_timeout_s: float,
        max_response_bytes: int,
    ) -> None:
        self.http = http  # the guarded client (agora_common.egress_client)
        self.guard = guard
        self.max_response_bytes = max_response_bytes
        self._timeouts = {"connect": connect_timeout_s, "pool": None}
        self._endpoints: ExpiringCache[httpx.URL] = ExpiringCache(4096)

    async def execute(
        self,
        base_url: str,
        hash_id: str,
        secret: str | None,
        body: bytes,
        *,
        timeout_s: float,
        authorization: str | None = None,
    ) -> AgentAnswer:
        """One `POST {base_url}/execute`, signed when there is a secret; transport trouble is
        503/504/502, never a hang."""
        endpoint = self._endpoint(base_url)
        headers = {
            "content-type": "application/json",
            **(sign_request(secret, hash_id, body) if secret else {}),
            **outgoing_trace_headers(),
        }
        if authorization:  # Cloud Run agents also demand the executor's ID token
            headers["authorization"] = authorization
        request = httpx.Request(
            "POST", endpoint, headers=headers, content=body, extensions={"timeout": self._timeouts}
        )
        try:
            async with asyncio.timeout(timeout_s):
                response = await self.http.send(request, stream=True)
                try:
                    raw = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise AgentTimeout() from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise AgentUnavailable() from exc
        except httpx.TransportError as exc:
            raise AgentBadAnswer("The agent broke off its answer") from exc
        return self._parse(response.status_code, raw)

    def _endpoint(self, base_url: str) -> httpx.URL:
        """`{base_url}/execute`, its form checked and parsed once per agent URL; its address is
        checked by the client on every request (literals) or every new connection (names)."""
        endpoint = self._endpoints.get(base_url)
        if endpoint is None:
            self.guard.check_url(base_url)
            try:
                endpoint = httpx.URL(f"{base_url.rstrip('/')}/execute")
            except (httpx.InvalidURL, ValueError, UnicodeError):
                raise EgressRefused("The agent's URL is not valid") from None
            self._endpoints.put(base_url, endpoint, math.inf)
        return endpoint

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        stream: Any = response.stream  # the transport's own chunks, without httpx's re-chunking
        async for chunk in stream:
            size += len(chunk)
            if size > self.max_response_bytes:
                raise AgentBadAnswer(f"The agent's answer exceeds {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _parse(status: int, raw: bytes) -> AgentAnswer:
        """The agent's answer, validated; its raw output is never passed on as is."""
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise AgentBadAnswer() from None
        if not isinstance(body, dict):
            raise AgentBadAnswer()
        if status == 200 and body.get("status") == "ok" and "result" in body:
            return AgentAnswer(ok=True, result=body["result"], response_bytes=len(raw))
        error = body.get("error")
        if status in (400, 404, 422) and body.get("status") == "error" and isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            if isinstance(code, str) and _CODE.fullmatch(code):
                text = message if isinstance(message, str) and message.isprintable() else None
                return AgentAnswer(
                    ok=False,
                    error_code=code,
                    error_message=(text or "The tool refused the call")[:MAX_ERROR_MESSAGE],
                    response_bytes=len(raw),
                )
        if status in (401, 403):
            raise AgentRefusedSignature()
        if status in (502, 503, 504):
            raise AgentUnavailable("The agent is unavailable")
        raise AgentBadAnswer()
