"""App factory of the gateway: the only public entry, `/api/v1/*`."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.app import Needs, container_of, create_service_app
from agora_common.bodies import BodyLimit
from agora_common.heads import HeadLimit
from agora_common.middleware import RequestContextMiddleware
from agora_gateway.container import GatewayContainer, build
from agora_gateway.resource_metadata import METADATA_PATHS, metadata, public_origin
from agora_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> GatewayASGI:
    settings = settings or GatewaySettings()
    app = create_service_app(
        settings,
        title="Agora gateway",
        description="Public entry: Firebase sign-in, rate limits, /api/v1 proxy.",
        needs=Needs(redis=True),
        wire=partial(build, settings),
        max_body_bytes=settings.max_body_bytes,
    )

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def public_openapi(request: Request) -> dict[str, Any]:
        """The whole public API, composed from the services' documents."""
        return await container_of(request.app, GatewayContainer).openapi.document()

    @app.get(JWKS_PATH, include_in_schema=False)
    async def jwks(request: Request) -> JSONResponse:
        """The platform's public signing keys: what verifies the A2A cards it signs."""
        keys = await container_of(request.app, GatewayContainer).signer.public_jwks()
        cache = f"public, max-age={settings.jwks_max_age_s}"
        return JSONResponse(
            keys, media_type="application/jwk-set+json", headers={"Cache-Control": cache}
        )

    @app.get(METADATA_PATHS[0], include_in_schema=False)
    @app.get(METADATA_PATHS[1], include_in_schema=False)
    async def protected_resource(request: Request) -> JSONResponse:
        """RFC 9728 metadata of the MCP endpoint: where its bearer tokens come from."""
        document = metadata(settings, public_origin(settings, request.scope))
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._head_capped(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(PREFIX) and path != OPENAPI_PATH:
            await self.proxied(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        await container_of(self.fastapi, GatewayContainer).proxy(scope, receive, send)


def with_cors(app: ASGIApp, settings: GatewaySettings) -> ASGIApp:
    """CORS for the configured browser origins (none: no CORS headers at all)."""
    if not settings.cors_origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "If-None-Match",
            "MCP-Protocol-Version",
        ],
        expose_headers=[
            "ETag",
            "WWW-Authenticate",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        max_age=600,
    )


PREFIX = "/api/v1/"
OPENAPI_PATH = "/api/v1/openapi.json"
JWKS_PATH = "/.well-known/jwks.json"
