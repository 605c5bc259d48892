"""The shared part of every service's app factory: lifespan-owned clients, health, handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from google.cloud import firestore

from agora_common.blobs import BlobStore, make_blob_store
from agora_common.bodies import DEFAULT_MAX_BODY_BYTES, BodyLimit
from agora_common.clients import (
    close_firestore_client,
    make_firestore_client,
    make_http_client,
    make_redis_client,
)
from agora_common.errors import ServiceUnavailable, add_exception_handlers
from agora_common.iam.client import ServiceAuth, ServiceClient
from agora_common.iam.tokens import token_source_for
from agora_common.iam.verifier import JwksCache, ServiceCaller, ServiceTokenVerifier
from agora_common.logging import configure_logging
from agora_common.middleware import RequestContextMiddleware
from agora_common.settings import ServiceSettings

log = logging.getLogger("agora.app")

ReadinessCheck = Callable[[], Awaitable[object]]
# Builds a service's typed container on the opened clients; what it must close goes on the stack.
Wire = Callable[["Resources", AsyncExitStack], Awaitable[object]]
C = TypeVar("C")
T = TypeVar("T")


@dataclass(frozen=True)
class Needs:
    """Which shared clients a service opens in its lifespan."""

    firestore: bool = False
    redis: bool = False
    # The source bucket's BlobStore, where the settings name one (`source_bucket`).
    storage: bool = False


@dataclass
class Resources:
    """Everything a service's lifespan opened, on `app.state.resources`."""

    settings: ServiceSettings
    http: httpx.AsyncClient
    verifier: ServiceTokenVerifier
    services: ServiceClient
    firestore: firestore.AsyncClient | None = None
    redis: aioredis.Redis | None = None
    blobs: BlobStore | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str = "",
    needs: Needs = Needs(),
    wire: Wire | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with the fleet's middleware, envelope, health routes and lifespan.

    Request bodies follow the one rule of `agora_common.bodies` with `max_body_bytes` as the cap.
    `wire` builds the service's container, which routes reach through `provide`.
    """
    configure_logging(settings.service_name, settings.project_id, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = open_resources(settings, needs)
        app.state.resources = resources
        try:
            async with AsyncExitStack() as stack:
                if wire is not None:
                    app.state.container = await wire(resources, stack)
                yield
        finally:
            await close_resources(resources)

    app = FastAPI(title=title, description=description, lifespan=lifespan, **fastapi_kwargs)
    app.state.settings = settings
    # Added first, so it runs inside RequestContextMiddleware: its answers carry the trace id.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    add_exception_handlers(app)
    _add_health_routes(app)
    return app


def open_resources(settings: ServiceSettings, needs: Needs) -> Resources:
    http = make_http_client(settings)
    verifier = ServiceTokenVerifier(
        JwksCache(settings.iam_jwks_url, http),
        audiences=settings.iam_audiences,
        issuers=settings.iam_issuers,
        allowed_emails=settings.allowed_caller_emails,
    )
    resources = Resources(
        settings=settings,
        http=http,
        verifier=verifier,
        services=ServiceClient(
            http, ServiceAuth(token_source_for(settings)), settings.service_urls
        ),
    )
    if needs.firestore:
        db = make_firestore_client(settings)
        resources.firestore = db
        resources.readiness["firestore"] = db.collection("_readyz").document("ping").get
    if needs.redis:
        redis = make_redis_client(settings)
        resources.redis = redis
        resources.readiness["redis"] = redis.ping
    if needs.storage:
        # No readiness check: a Cloud Storage blip must not take the service out of rotation,
        # and the calls that need the bucket answer 503 on their own.
        resources.blobs = make_blob_store(settings)
    return resources


async def close_resources(resources: Resources) -> None:
    if resources.blobs is not None:
        resources.blobs.close()
    if resources.redis is not None:
        await resources.redis.aclose()
    if resources.firestore is not None:
        await close_firestore_client(resources.firestore)
    await resources.http.aclose()


async def check_readiness(resources: Resources) -> dict[str, str]:
    """Run every dependency check concurrently, each bounded by the dependency timeout."""
    timeout = resources.settings.dependency_timeout_s

    async def run(check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            return "timeout"
        except Exception as exc:
            log.warning("readiness check failed", extra={"error": type(exc).__name__})
            return "unavailable"
        return "ok"

    names = list(resources.readiness)
    results = await asyncio.gather(*(run(resources.readiness[n]) for n in names))
    return dict(zip(names, results, strict=True))


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: every dependency answers")
    async def readyz(request: Request) -> dict[str, Any]:
        checks = await check_readiness(request.app.state.resources)
        failing = sorted(name for name, state in checks.items() if state != "ok")
        if failing:
            raise ServiceUnavailable(
                f"Not ready: {', '.join(failing)}",
                code="NOT_READY",
                details=[{"dependency": n, "state": checks[n]} for n in failing],
            )
        return {"status": "ready", "checks": checks}

    @app.get(
        "/internal/whoami",
        tags=["internal"],
        summary="The verified calling service (service identity only)",
    )
    async def whoami(caller: ServiceCaller) -> dict[str, str]:
        return {"email": caller.email, "subject": caller.subject, "audience": caller.audience}

    @app.get(
        "/internal/peers",
        tags=["internal"],
        summary="Call every configured service's whoami with this service's identity",
    )
    async def peers(_: ServiceCaller, request: Request) -> dict[str, dict[str, Any]]:
        """An IAM wiring self-check: which peers accept this service's identity, as whom."""
        resources: Resources = request.app.state.resources
        names = sorted(resources.services.service_urls)
        answers = await asyncio.gather(*(_peer_status(resources.services, name) for name in names))
        return dict(zip(names, answers, strict=True))


async def _peer_status(services: ServiceClient, name: str) -> dict[str, Any]:
    try:
        response = await services.request(name, "GET", "/internal/whoami")
    except ServiceUnavailable as exc:
        return {"status": 503, "error": exc.message}
    try:
        body = response.json()
        if response.status_code != 200:
            return {"status": response.status_code, "error": body["error"]["code"]}
        return {"status": 200, "seen_as": body["email"]}
    except (ValueError, KeyError, TypeError):
        return {"status": response.status_code, "error": "unexpected answer"}


def provide(kind: type[C], pick: Callable[[C], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency handing a route one part of the service's typed container.

    Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop on
    every request for an attribute.
    """

    async def dependency(request: Request) -> T:
        return pick(container_of(request.app, kind))

    return dependency


def container_of(app: Any, kind: type[C]) -> C:
    """The container `wire` built for `app`, checked to be of the service's own type."""
    container = getattr(app.state, "container", None)
    if not isinstance(container, kind):
        raise TypeError(f"the app's container is not a {kind.__name__}")
    return container
