"""Requests written byte by byte on a socket, for what an HTTP client refuses to send."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


def head(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(
    base_url: str, data: bytes, *, half_close: bool = False, timeout: float = 5.0
) -> bytes:
    """Send `data` on a new connection and read until the server closes it (or `timeout`)."""
    where = urlsplit(base_url)
    with socket.create_connection((where.hostname or "", where.port or 80), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)  # the client gives up: no more body will come
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and not half_close and _complete(received):
                break
        return received


def _complete(received: bytes) -> bool:
    """A whole answer with a Content-Length has arrived."""
    head_part, _, body = received.partition(b"\r\n\r\n")
    for line in head_part.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


class Recorder(logging.Handler):
    """Every log record of the process while attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
