"""Outgoing service-to-service calls: an httpx auth that attaches an ID token for the target."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx

from agora_common.errors import AgoraError, ServiceUnavailable
from agora_common.iam.tokens import TokenSource


class ServiceAuth(httpx.Auth):
    """Bearer ID token whose audience is the target's origin (a Cloud Run service's URL)."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def authorization(self, audience: str) -> str:
        """The Authorization value for a call to `audience` (the target's origin)."""
        return f"Bearer {await self.source.token(audience)}"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        audience = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        request.headers["Authorization"] = await self.authorization(audience)
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise RuntimeError("ServiceAuth is async only")


class ServiceClient:
    """Calls other services by name over the shared pooled client, with this service's identity."""

    def __init__(
        self, http: httpx.AsyncClient, auth: ServiceAuth, service_urls: Mapping[str, str]
    ) -> None:
        self.http = http
        self.auth = auth
        self.service_urls = {name: url.rstrip("/") for name, url in service_urls.items()}

    def url(self, service: str, path: str) -> str:
        try:
            return f"{self.service_urls[service]}{path}"
        except KeyError:
            raise AgoraError(f"no URL configured for service {service!r}") from None

    async def request(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; an unreachable service is a 503, never a hang (timeouts are the client's)."""
        try:
            return await self.http.request(
                method, self.url(service, path), auth=self.auth, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(f"{service} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"{service} is unreachable") from exc
