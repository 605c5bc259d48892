"""Readiness checks polled while a child starts, and the loopback ports children need."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

from agora_devstack.errors import PortInUseError

if TYPE_CHECKING:
    from agora_devstack.children import Child

__all__ = [
    "ReadyCheck",
    "all_ready",
    "ensure_port_free",
    "free_ports",
    "http_ready",
    "log_line_ready",
    "port_in_use",
    "tcp_ready",
]

# A readiness check is polled with the child until it returns True (exceptions count as "not yet").
ReadyCheck = Callable[["Child"], bool]


def tcp_ready(host: str, port: int, timeout: float = 0.5) -> ReadyCheck:
    """Ready once a TCP connection to host:port succeeds."""

    def check(_child: Child) -> bool:
        with socket.create_connection((host, port), timeout=timeout):
            return True

    return check


def http_ready(
    url: str, ok: Callable[[int], bool] = lambda status: status < 500, timeout: float = 1.0
) -> ReadyCheck:
    """Ready once an HTTP GET of url answers with a status `ok` accepts (default: below 500)."""

    def check(_child: Child) -> bool:
        request = urllib.request.Request(url, method="GET")  # noqa: S310 - local http(s) URLs only
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return ok(response.status)
        except urllib.error.HTTPError as error:
            # An error status still proves the server is up; let `ok` decide.
            return ok(error.code)

    return check


def log_line_ready(pattern: str | re.Pattern[str]) -> ReadyCheck:
    """Ready once the child's log (this run's part, ANSI colours stripped) matches pattern."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern

    def check(child: Child) -> bool:
        return regex.search(child.read_log()) is not None

    return check


def all_ready(*checks: ReadyCheck) -> ReadyCheck:
    """Ready once every one of checks is."""

    def check(child: Child) -> bool:
        return all(each(child) for each in checks)

    return check


# --- ports ----------------------------------------------------------------------------------------


def port_in_use(host: str, port: int) -> bool:
    """True if a server could not bind host:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as servers set it: a port lingering in TIME_WAIT is not "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def ensure_port_free(host: str, port: int, what: str, hint: str = "") -> None:
    """Raise PortInUseError naming `what` if host:port is taken."""
    if port_in_use(host, port):
        message = f"port {port} on {host}, needed by the {what}, is already in use"
        raise PortInUseError(f"{message}; {hint}" if hint else message)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Pick `count` distinct ports the OS reports free (ephemeral range)."""
    sockets: list[socket.socket] = []
    try:
        # Hold all sockets open until every port is chosen, so the OS cannot hand one out twice.
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
