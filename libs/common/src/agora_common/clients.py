"""Client factories, each opened once per process by the app's lifespan."""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
import redis.asyncio as aioredis
from google.api_core.client_options import ClientOptions
from google.api_core.retry_async import AsyncRetry
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore, storage
from httpx_aiohttp import AiohttpTransport

from agora_common.settings import ServiceSettings
from agora_common.tracing import outgoing_trace_headers

# Below the servers' own idle timeout (uvicorn closes after 5 s). A connection reused just as the
# server closes it fails the call (aiohttp reports it as a connect error), and a POST is never
# retried: seen as a rare 503 between services under test load.
KEEPALIVE_EXPIRY_S = 4.0


async def propagate_trace(request: httpx.Request) -> None:
    for name, value in outgoing_trace_headers().items():
        request.headers.setdefault(name, value)


def make_transport(settings: ServiceSettings) -> AiohttpTransport:
    """aiohttp's connection pool behind httpx's transport interface, with explicit limits.

    For the services' own configured URLs (and the gateway's proxy); supplied URLs go through
    `agora_common.egress_client` instead.
    """
    limits = httpx.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    return AiohttpTransport(limits=limits, trust_env=False)


def make_http_client(settings: ServiceSettings) -> httpx.AsyncClient:
    """One pooled client with explicit timeouts and limits; trace headers on every call.

    The transport is aiohttp's pool behind the httpx API, the one outbound stack: httpcore's
    pool costs several times its CPU per call (docs/benchmarks.md).
    """
    timeout = httpx.Timeout(
        connect=settings.http_connect_timeout_s,
        read=settings.http_read_timeout_s,
        write=settings.http_read_timeout_s,
        pool=settings.http_connect_timeout_s,
    )
    return httpx.AsyncClient(
        transport=make_transport(settings),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [propagate_trace]},
    )


# Connections to Redis per process. Past that, a command waits (up to the dependency timeout)
# for one to be free, where redis-py's default pool fails it at once: a burst of requests then
# queues for a moment instead of losing Redis.
REDIS_MAX_CONNECTIONS = 100


def make_redis_client(settings: ServiceSettings) -> aioredis.Redis:
    """Redis with short socket timeouts, so a dead Redis fails fast instead of hanging a request.

    AUTH, SELECT and TLS come from the URL (`redis[s]://[[user]:password@]host[:port][/db]`).
    """
    if not settings.redis_url:
        raise ValueError(f"{settings.service_name}: redis_url is not set")
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=settings.dependency_timeout_s,
        socket_connect_timeout=settings.dependency_timeout_s,
        socket_timeout=settings.dependency_timeout_s,
        health_check_interval=30,
        decode_responses=False,
    )
    return aioredis.Redis.from_pool(pool)


def make_firestore_client(settings: ServiceSettings) -> firestore.AsyncClient:
    """Firestore AsyncClient; talks to the emulator when the settings name one.

    The client takes its emulator address from `FIRESTORE_EMULATOR_HOST` at construction, its
    only public way in: the variable is set (or removed) from these settings while the client is
    built, under a lock, then restored, so each app's settings choose, not the process env.
    """
    emulator = settings.firestore_emulator_host
    with _FIRESTORE_ENV_LOCK:
        before = os.environ.pop(_FIRESTORE_EMULATOR_ENV, None)
        try:
            if not emulator:
                return firestore.AsyncClient(project=settings.project_id)
            os.environ[_FIRESTORE_EMULATOR_ENV] = emulator
            anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
            return firestore.AsyncClient(project=settings.project_id, credentials=anonymous)
        finally:
            if before is None:
                os.environ.pop(_FIRESTORE_EMULATOR_ENV, None)
            else:
                os.environ[_FIRESTORE_EMULATOR_ENV] = before


_FIRESTORE_EMULATOR_ENV = "FIRESTORE_EMULATOR_HOST"
_FIRESTORE_ENV_LOCK = threading.Lock()


def make_storage_client(settings: ServiceSettings) -> storage.Client:
    """Cloud Storage client (synchronous: agora_common.blobs runs its calls in worker threads).

    With an emulator in the settings: its URL as the endpoint, anonymous credentials and the
    settings' project. google-cloud-storage also reads `STORAGE_EMULATOR_HOST` at construction;
    the variable is removed while the client is built, under a lock, then restored, so each app's
    settings choose, not the process env (as for Firestore above).
    """
    emulator = settings.storage_emulator_host
    with _STORAGE_ENV_LOCK:
        before = os.environ.pop(_STORAGE_EMULATOR_ENV, None)
        try:
            if not emulator:
                return storage.Client(project=settings.project_id)
            endpoint = emulator if "://" in emulator else f"http://{emulator}"
            return storage.Client(
                project=settings.project_id,
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options=ClientOptions(api_endpoint=endpoint),
            )
        finally:
            if before is not None:
                os.environ[_STORAGE_EMULATOR_ENV] = before


_STORAGE_EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_STORAGE_ENV_LOCK = threading.Lock()


def bounded_call(timeout_s: float) -> dict[str, Any]:
    """Keyword arguments that bound one Firestore call, retries included, to `timeout_s`.

    An outage is then a fast 503 (mapped by the shared handlers), never google-api-core's
    default minute of retries.
    """
    return {
        "timeout": timeout_s,
        "retry": AsyncRetry(initial=0.05, maximum=0.5, timeout=timeout_s),
    }


async def close_firestore_client(db: firestore.AsyncClient) -> None:
    """Let go of the client at shutdown.

    google-cloud-firestore's AsyncClient has no public close for its gRPC channel (its `close`
    is for HTTP); the grpc.aio channel closes itself when the client is collected.
    """
    del db
