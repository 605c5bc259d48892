"""One local agent process: its own process group, its log file, stopped as a group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_STOP_POLL_S = 0.05
_KILL_WAIT_S = 5.0


def free_port(host: str) -> int:
    """A port the OS reports free on host (it may be taken again before use; rare on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(eq=False)
class AgentProcess:
    """A started agent; `pid` is also its process group id."""

    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int

    @classmethod
    def start(
        cls, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> AgentProcess:
        """Start argv in a new session (so a new process group), appending its output to log_path.

        Called on the event loop's thread on purpose: a parent-death signal is tied to the thread
        that forked, and a worker thread of `asyncio.to_thread` may exit while the agent runs.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            log.write(f"### {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
            log.flush()
            offset = log.tell()
            process = subprocess.Popen(  # noqa: S603 - argv is built by the runtime, not a shell
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        return cls(process, log_path, offset)

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self.process.poll()

    def log_tail(self, lines: int = 20, max_chars: int = 2000) -> str:
        """The last lines this run wrote to its log."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])[-max_chars:]

    async def stop(self, grace_s: float) -> None:
        """SIGTERM to the group, SIGKILL after grace_s, then reap. Idempotent."""
        self._signal_group(signal.SIGTERM)
        await self._wait_exit(grace_s)
        # Also reaches any process the agent started that outlived it in the group.
        self._signal_group(signal.SIGKILL)
        await self._wait_exit(_KILL_WAIT_S)

    async def _wait_exit(self, timeout_s: float) -> None:
        """Poll for exit: Popen has no awaitable exit, and a blocked wait() would hold a thread."""
        deadline = time.monotonic() + timeout_s
        while self.exit_code() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(_STOP_POLL_S)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)
