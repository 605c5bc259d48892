"""Run a service the way Cloud Run does: `PORT` from the environment, one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from agora_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


# How every service is served (the tests' servers too): uvicorn's httptools protocol, our own
# JSON logs, no access log (Cloud Run logs each request), no Server header, and no trust in
# client-sent forwarding headers.
UVICORN_OPTIONS: dict[str, Any] = {
    "http": "httptools",
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,
    "server_header": False,
}


def uvicorn_options(app: object) -> dict[str, Any]:
    """UVICORN_OPTIONS with what the app asks of its server (`uvicorn_options` attribute)."""
    return {**UVICORN_OPTIONS, **getattr(app, "uvicorn_options", {})}


def serve(create_app: Callable[[S], ASGIApp], settings: S) -> None:
    host = "127.0.0.1" if settings.is_local else "0.0.0.0"  # noqa: S104 - Cloud Run needs all interfaces
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=settings.port,
        timeout_graceful_shutdown=10,
        **uvicorn_options(app),
    )
