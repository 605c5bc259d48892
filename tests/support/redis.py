"""A redis-server process of a test's own, on a port it chooses (to stop, restart or freeze)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def redis_server(port: int, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """redis-server on 127.0.0.1:`port`, no persistence, `extra` arguments; killed on exit."""
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by the project's bootstrap"
    argv = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*argv, *extra], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.02)
    try:
        yield process
    finally:
        process.kill()
        process.wait()
