"""One supervised child process, and how a set of them is stopped as one."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agora_devstack.errors import StartError
from agora_devstack.probes import ReadyCheck
from agora_devstack.proctree import descendants, group_alive, pid_alive, signal_group

__all__ = ["Child", "stop_children"]

_POLL_INTERVAL = 0.1
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _display(path: Path) -> str:
    """Path relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(eq=False)
class Child:
    """One supervised process (and its process group)."""

    name: str
    label: str
    argv: tuple[str, ...]
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_check: ReadyCheck | None
    timeout: float
    _log_offset: int = 0
    _extra_pids: set[int] = field(default_factory=set)
    _stopped: bool = False

    @property
    def pid(self) -> int:
        """PID of the process started."""
        return self.process.pid

    @property
    def pgid(self) -> int:
        """Its process group (equal to its PID: each child leads its own session)."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """Exit code of the process started, or None while it runs."""
        return self.process.poll()

    def running(self) -> bool:
        """True while the process started has not exited."""
        return self.process.poll() is None

    def alive(self) -> bool:
        """True while any process of its group (or a descendant that left it) is alive."""
        self.process.poll()  # reap the leader so it does not linger as a zombie
        return group_alive(self.pgid) or any(pid_alive(pid) for pid in self._extra_pids)

    def read_log(self) -> str:
        """This run's log output, ANSI colours stripped."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return _ANSI_ESCAPE.sub("", text)

    def last_log_line(self, limit: int = 160) -> str:
        """Last non-blank line of this run's log, shortened to `limit` characters."""
        lines = [line.strip() for line in self.read_log().splitlines() if line.strip()]
        if not lines:
            return ""
        line = lines[-1]
        return line if len(line) <= limit else line[: limit - 1] + "…"

    def is_ready(self) -> bool:
        """Run the readiness check once (no check: ready once started)."""
        if self.ready_check is None:
            return True
        try:
            return bool(self.ready_check(self))
        except Exception:  # any failure of a probe means "not yet", not an error
            return False

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until ready; raise StartError if the child exits or the timeout passes first."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            if self.is_ready():
                return
            code = self.process.poll()
            if code is not None:
                raise StartError(self._failure(f"exited with code {code} before it was ready"))
            if time.monotonic() >= deadline:
                raise StartError(self._failure(f"was not ready within {limit:g} s"))
            time.sleep(_POLL_INTERVAL)

    def _failure(self, what: str) -> str:
        message = f"{self.label} {what}; see {_display(self.log_path)}"
        last = self.last_log_line()
        return f"{message} (last line: {last})" if last else message

    def signal(self, sig: signal.Signals) -> None:
        """Send sig to the whole group, and to descendants that moved to another group."""
        if sig in (signal.SIGTERM, signal.SIGKILL) and self.running():
            # Note who belongs to the tree before it starts to fall apart; orphans lose their
            # parent link, and any that called setsid() would escape a group kill.
            self._extra_pids |= descendants(self.pid)
        signal_group(self.pgid, sig)
        for pid in self._extra_pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) != self.pgid:
                    os.kill(pid, sig)

    def stop(self, grace: float = 5.0) -> None:
        """Stop the tree: SIGTERM, then SIGKILL after `grace` seconds. Idempotent."""
        stop_children([self], grace)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Hold off Ctrl-C while stopping: a terminal signals the whole group and `uv run` forwards it
    again, so a second SIGINT arrives mid-cleanup and would leave children behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_children(children: Sequence[Child], grace: float) -> None:
    """Stop several children at once so their grace periods overlap."""
    with _interrupts_ignored():
        _stop_now([child for child in children if not child._stopped], grace)


def _stop_now(pending: list[Child], grace: float) -> None:
    for child in pending:
        if child.alive():
            child.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(child.alive() for child in pending) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in pending:
        if child.alive():
            child.signal(signal.SIGKILL)
    # SIGKILL cannot be ignored; this only waits for the kernel to tear the processes down.
    deadline = time.monotonic() + 5.0
    while any(child.alive() for child in pending) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in pending:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=1.0)
        child._stopped = True
