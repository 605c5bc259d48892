"""The client for supplied URLs: httpx on aiohttp's pool, every connection through the guard.

The guard is the connector's resolver, so aiohttp connects only to addresses the guard resolved
and checked, and TLS still verifies (and sends as SNI) the URL's own host name. aiohttp never
calls a resolver for a literal address, so each request's URL is checked by the guard first.
Redirects are never followed.
"""

from __future__ import annotations

import socket
import ssl

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

from agora_common.clients import KEEPALIVE_EXPIRY_S, propagate_trace
from agora_common.egress import EgressGuard


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver: the guard's checked addresses, or EgressRefused."""

    def __init__(self, guard: EgressGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._guard.addresses(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        """Nothing held."""


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks each request's URL with the guard, then hands it to aiohttp's pool."""

    def __init__(self, guard: EgressGuard, inner: httpx.AsyncBaseTransport) -> None:
        self._guard = guard
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._guard.check(str(request.url))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def make_guarded_transport(
    guard: EgressGuard,
    *,
    max_connections: int = 100,
    ssl_context: ssl.SSLContext | None = None,
) -> GuardedTransport:
    """aiohttp's pool resolving through `guard`, behind httpx's transport interface."""
    tls = ssl_context or ssl.create_default_context()

    def session() -> aiohttp.ClientSession:
        # No DNS cache: every new connection is resolved, and so checked, again.
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(guard),
            use_dns_cache=False,
            ssl=tls,
            limit=max_connections,
            keepalive_timeout=KEEPALIVE_EXPIRY_S,
        )
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    return GuardedTransport(guard, AiohttpTransport(client=session, trust_env=False))


def make_guarded_client(
    guard: EgressGuard,
    *,
    timeout_s: float,
    connect_timeout_s: float | None = None,
    max_connections: int = 100,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """The one client for URLs someone supplied (agents, probes, health checks, webhooks)."""
    connect = connect_timeout_s if connect_timeout_s is not None else timeout_s
    return httpx.AsyncClient(
        transport=make_guarded_transport(
            guard, max_connections=max_connections, ssl_context=ssl_context
        ),
        timeout=httpx.Timeout(timeout_s, connect=connect, pool=connect),
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [propagate_trace]},
    )
