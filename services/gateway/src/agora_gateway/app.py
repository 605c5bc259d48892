"""App factory of the gateway: the only public entry, `/api/v1/*`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.app import Resources, create_service_app
from agora_common.firebase import token_verifier_for
from agora_gateway.openapi import OpenApiComposer
from agora_gateway.proxy import Proxy
from agora_gateway.ratelimit import RateLimiter
from agora_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources: Resources = app.state.resources
        if not settings.redis_url:
            raise ValueError("gateway: redis_url is not set")
        # Rate limiting gets its own client with a short timeout: a slow Redis must not slow us.
        redis = aioredis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=settings.redis_timeout_s,
            socket_timeout=settings.redis_timeout_s,
        )
        resources.readiness["redis"] = redis.ping
        tokens = token_verifier_for(
            settings, resources.http, revocation_ttl_s=settings.revocation_ttl_s
        )
        app.state.proxy = Proxy(
            settings, resources.http, resources.services.auth, tokens, RateLimiter(redis)
        )
        app.state.openapi = OpenApiComposer(resources.services)
        try:
            yield
        finally:
            tokens.close()
            await redis.aclose()

    app = create_service_app(
        settings,
        title="Agora gateway",
        description="Public entry: Firebase sign-in, rate limits, /api/v1 proxy.",
        lifespan_hook=lifespan,
    )

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def public_openapi(request: Request) -> dict[str, Any]:
        """The whole public API, composed from the services' documents."""
        composer: OpenApiComposer = request.app.state.openapi
        return await composer.document()

    # Innermost user middleware: inside the trace/access-log middleware, but ahead of FastAPI's
    # router and exception middleware, which the proxy does not need on every request.
    app.user_middleware.append(Middleware(_ProxyDispatch))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
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
    return app


class _ProxyDispatch:
    """Hands /api/v1/* (but the composed OpenAPI document) to the proxy the lifespan built."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(PREFIX) and path != OPENAPI_PATH:
            proxy: Proxy = scope["app"].state.proxy
            await proxy(scope, receive, send, path[len(PREFIX) - 1 :])
            return
        await self.app(scope, receive, send)


PREFIX = "/api/v1/"
OPENAPI_PATH = "/api/v1/openapi.json"
