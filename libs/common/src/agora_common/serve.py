"""Run a service the way Cloud Run does: `PORT` from the environment, one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from starlette.types import ASGIApp

from agora_common.server_protocol import CoalescingHttpToolsProtocol
from agora_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(create_app: Callable[[S], ASGIApp], settings: S) -> None:
    host = "127.0.0.1" if settings.is_local else "0.0.0.0"  # noqa: S104 - Cloud Run needs all interfaces
    uvicorn.run(
        create_app(settings),
        host=host,
        port=settings.port,
        http=CoalescingHttpToolsProtocol,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
