"""Serve an ASGI app for real over HTTP on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from agora_common.serve import uvicorn_options

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port() -> int:
    """A loopback port the OS reports free, and never one this process handed out before.

    The OS may report the same free port to two calls in a row (a test picks a port for a
    registry it starts later, then a gateway picks its own); remembering them prevents that.
    """
    with _handed_out_lock:
        while True:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port


@contextmanager
def serving(app: ASGIApp, port: int | None = None, **tls: str) -> Iterator[str]:
    """Run `app` under uvicorn as the services run (lifespan included) and yield its base URL.

    `tls` (uvicorn's `ssl_certfile`, `ssl_keyfile`) serves https instead.
    """
    port = port or free_port()
    options = {**uvicorn_options(app), **tls}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
