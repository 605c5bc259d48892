"""Run a service the way Cloud Run does: `PORT` from the environment, one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from agora_common.server_protocol import CoalescingHttpToolsProtocol
from agora_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


# How every service is served (the tests' servers too): the head-and-body-in-one-write protocol,
# our own JSON logs, no access log (Cloud Run logs each request), no Server header, and no
# trust in client-sent forwarding headers.
UVICORN_OPTIONS: dict[str, Any] = {
    "http": CoalescingHttpToolsProtocol,
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,
    "server_header": False,
}


def serve(create_app: Callable[[S], ASGIApp], settings: S) -> None:
    host = "127.0.0.1" if settings.is_local else "0.0.0.0"  # noqa: S104 - Cloud Run needs all interfaces
    uvicorn.run(
        create_app(settings),
        host=host,
        port=settings.port,
        timeout_graceful_shutdown=10,
        **UVICORN_OPTIONS,
    )
