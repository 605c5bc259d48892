"""Supervision of local child processes: start, log to a file, await readiness, stop the whole tree.

Used by the emulator launcher and the local fleet runner. Each child runs in its own session (and so
its own process group), with stdout and stderr going to one log file. Stopping sends SIGTERM to the
group, waits a grace period, then SIGKILLs the group and any descendant that left it. Every live
supervisor is stopped at interpreter exit and on SIGTERM/SIGHUP; Ctrl-C arrives as
KeyboardInterrupt, so a `with Supervisor(...)` block (or try/finally) cleans up on it too.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

from agora_devstack.children import Child, stop_children
from agora_devstack.errors import PortInUseError, StartError, SupervisorError, ToolMissingError
from agora_devstack.probes import (
    ReadyCheck,
    all_ready,
    ensure_port_free,
    free_ports,
    http_ready,
    log_line_ready,
    port_in_use,
    tcp_ready,
)

__all__ = [
    "Child",
    "PortInUseError",
    "ReadyCheck",
    "StartError",
    "Supervisor",
    "SupervisorError",
    "ToolMissingError",
    "all_ready",
    "ensure_port_free",
    "free_ports",
    "http_ready",
    "log_line_ready",
    "port_in_use",
    "tcp_ready",
]

_live_supervisors: weakref.WeakSet[Supervisor] = weakref.WeakSet()
_previous_handlers: dict[int, object] = {}
_hooks_lock = threading.Lock()
_atexit_registered = False


def _stop_live_supervisors() -> None:
    for supervisor in list(_live_supervisors):
        supervisor.stop_all()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _stop_live_supervisors()
    previous = _previous_handlers.get(signum)
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        # Default action was "terminate": exit through SystemExit so finally blocks still run.
        raise SystemExit(128 + signum)


def _install_hooks(handle_signals: bool) -> None:
    global _atexit_registered
    with _hooks_lock:
        if not _atexit_registered:
            atexit.register(_stop_live_supervisors)
            _atexit_registered = True
        # Signal handlers can only be set from the main thread; elsewhere atexit must do.
        if not handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if sig in _previous_handlers:
                continue
            _previous_handlers[sig] = signal.getsignal(sig)
            signal.signal(sig, _on_signal)


class Supervisor:
    """Starts child processes, each in its own process group with its own log file, and stops them.

    Use as a context manager, or call stop_all(); it also runs at exit and on SIGTERM/SIGHUP.
    """

    def __init__(self, log_dir: Path, *, grace: float = 5.0, handle_signals: bool = True) -> None:
        self.log_dir = Path(log_dir)
        self.grace = grace
        self.handle_signals = handle_signals
        self._children: dict[str, Child] = {}

    @property
    def children(self) -> dict[str, Child]:
        """Children started so far, by name, in start order."""
        return dict(self._children)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: Path | None = None,
        ready: ReadyCheck | None = None,
        timeout: float = 30.0,
        wait: bool = True,
        label: str | None = None,
    ) -> Child:
        """Start argv as `name`, logging to <log_dir>/<name>.log; await readiness unless wait=False.

        env is added to the inherited environment (or replaces it if inherit_env is False). On a
        start or readiness failure the child is stopped and the error raised.
        """
        if name in self._children and not self._children[name]._stopped:
            raise SupervisorError(f"a child named {name!r} is already running")
        label = label or name
        _install_hooks(self.handle_signals)
        _live_supervisors.add(self)

        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        full_env = {**(os.environ if inherit_env else {}), **(env or {})}
        with log_path.open("wb") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"### {stamp} {label}: {subprocess.list2cmdline(argv)}\n".encode())
            log.flush()
            offset = log.tell()
            try:
                process = subprocess.Popen(  # noqa: S603 - argv comes from our own code
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=full_env,
                    cwd=cwd,
                    # Own session => own process group, so the tree can be stopped as one, and a
                    # terminal's Ctrl-C reaches only us: we stop children in order ourselves.
                    start_new_session=True,
                )
            except FileNotFoundError as error:
                raise ToolMissingError(f"{label}: cannot run {argv[0]}: not found") from error
            except PermissionError as error:
                raise ToolMissingError(f"{label}: cannot run {argv[0]}: {error}") from error
        child = Child(
            name=name,
            label=label,
            argv=tuple(argv),
            process=process,
            log_path=log_path,
            ready_check=ready,
            timeout=timeout,
            _log_offset=offset,
        )
        self._children[name] = child
        if wait:
            self.wait_ready([child])
        return child

    def wait_ready(self, children: Iterable[Child] | None = None) -> None:
        """Wait for children (default: all) to be ready; on failure stop them all and raise."""
        try:
            for child in list(self._children.values()) if children is None else children:
                child.wait_ready()
        except BaseException:
            self.stop_all()
            raise

    def stop_all(self) -> None:
        """Stop every child (SIGTERM to all groups, SIGKILL after the grace period). Idempotent."""
        stop_children(list(reversed(self._children.values())), self.grace)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()
