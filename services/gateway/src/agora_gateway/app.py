"""App factory of the gateway: the only public entry, `/api/v1/*`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.app import Needs, Resources, create_service_app
from agora_common.bodies import BodyLimit
from agora_common.clients import make_transport
from agora_common.firebase import token_verifier_for
from agora_common.heads import HeadLimit
from agora_common.middleware import RequestContextMiddleware
from agora_gateway.openapi import OpenApiComposer
from agora_gateway.proxy import Proxy
from agora_gateway.ratelimit import RateLimiter
from agora_gateway.security import RefusalWatch
from agora_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> GatewayASGI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources: Resources = app.state.resources
        assert resources.redis is not None
        transport = make_transport(settings)
        tokens = token_verifier_for(
            settings, resources.http, revocation_ttl_s=settings.revocation_ttl_s
        )
        refusals = RefusalWatch(
            resources.redis,
            resources.services,
            threshold=settings.refusal_burst_threshold,
            window_s=settings.refusal_burst_window_s,
        )
        app.state.proxy = Proxy(
            settings,
            transport,
            resources.services.auth,
            tokens,
            RateLimiter(resources.redis, timeout_s=settings.dependency_timeout_s),
            refusals=refusals,
        )
        app.state.openapi = OpenApiComposer(resources.services)
        try:
            yield
        finally:
            await refusals.aclose()
            tokens.close()
            await transport.aclose()

    app = create_service_app(
        settings,
        title="Agora gateway",
        description="Public entry: Firebase sign-in, rate limits, /api/v1 proxy.",
        needs=Needs(redis=True),
        lifespan_hook=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def public_openapi(request: Request) -> dict[str, Any]:
        """The whole public API, composed from the services' documents."""
        composer: OpenApiComposer = request.app.state.openapi
        return await composer.document()

    return GatewayASGI(app, settings)


class GatewayASGI:
    """What uvicorn serves: /api/v1/* straight to the proxy, everything else to FastAPI.

    The proxy runs for every public request, so it skips FastAPI's middleware stack and router;
    it keeps the trace/log/500 middleware and the body rule every service has. The FastAPI app
    owns the lifespan. Every request's head is capped first (`agora_common.heads`).
    """

    def __init__(self, app: FastAPI, settings: GatewaySettings) -> None:
        self.app: ASGIApp = with_cors(app, settings)
        self.fastapi = app
        self.proxied = with_cors(
            RequestContextMiddleware(
                BodyLimit(self._proxy, settings.max_body_bytes), access_log=settings.access_log
            ),
            settings,
        )
        self._head_capped = HeadLimit(self._dispatch, settings.max_head_bytes)
        # h11 rather than httptools: uvicorn's only public bound on what it buffers of a head
        # (httptools reads a head of any size). Past the bound uvicorn answers its plain 400.
        self.uvicorn_options = {
            "http": "h11",
            "h11_max_incomplete_event_size": settings.max_head_buffer_bytes,
        }

    @property
    def state(self) -> Any:
        return self.fastapi.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._head_capped(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(PREFIX) and path != OPENAPI_PATH:
            await self.proxied(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxy: Proxy = self.fastapi.state.proxy
        await proxy(scope, receive, send)


def with_cors(app: ASGIApp, settings: GatewaySettings) -> ASGIApp:
    """CORS for the configured browser origins (none: no CORS headers at all)."""
    if not settings.cors_origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
        expose_headers=[
            "ETag",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        max_age=600,
    )


PREFIX = "/api/v1/"
OPENAPI_PATH = "/api/v1/openapi.json"
