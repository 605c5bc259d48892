"""Supervision of local child processes: start, log to a file, await readiness, stop the whole tree.

Used by the emulator launcher and the local fleet runner. Each child runs in its own session (and so
its own process group), with stdout and stderr going to one log file. Stopping sends SIGTERM to the
group, waits a grace period, then SIGKILLs the group and any descendant that left it. Every live
supervisor is stopped at interpreter exit and on SIGTERM/SIGHUP; Ctrl-C arrives as
KeyboardInterrupt, so a `with Supervisor(...)` block (or try/finally) cleans up on it too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

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

# A readiness check is polled with the child until it returns True (exceptions count as "not yet").
ReadyCheck = Callable[["Child"], bool]

_POLL_INTERVAL = 0.1
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class SupervisorError(RuntimeError):
    """A child process could not be started or supervised; the message is one line."""


class StartError(SupervisorError):
    """A child exited or timed out before it was ready."""


class PortInUseError(SupervisorError):
    """A port a child needs is already taken."""


class ToolMissingError(SupervisorError):
    """An executable or package a child needs is not installed."""


# --- readiness checks ---------------------------------------------------------------------------


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


# --- process-tree inspection ---------------------------------------------------------------------


def _proc_table() -> list[tuple[int, int, int, str]] | None:
    """(pid, ppid, pgid, state) of every process from /proc, or None where /proc is absent."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    table = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # The command name sits in parentheses and may contain spaces; fields follow the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        table.append((int(entry.name), int(fields[1]), int(fields[2]), fields[0]))
    return table


def _group_alive(pgid: int) -> bool:
    """True if a process other than a zombie is still in process group pgid."""
    table = _proc_table()
    if table is None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # Zombies are dead; orphaned ones wait for init to reap them and must not count.
    return any(group == pgid and state not in "ZX" for _, _, group, state in table)


def _descendants(pid: int) -> set[int]:
    """PIDs of all live descendants of pid (empty where /proc is absent)."""
    table = _proc_table()
    if table is None:
        return set()
    children: dict[int, list[int]] = {}
    for each, parent, _, state in table:
        if state not in "ZX":
            children.setdefault(parent, []).append(each)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for each in children.get(stack.pop(), []):
            if each not in found:
                found.add(each)
                stack.append(each)
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    table = _proc_table()
    return table is None or any(each == pid and state not in "ZX" for each, _, _, state in table)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# --- children -----------------------------------------------------------------------------------


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
        return _group_alive(self.pgid) or any(_pid_alive(pid) for pid in self._extra_pids)

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
            self._extra_pids |= _descendants(self.pid)
        _signal_group(self.pgid, sig)
        for pid in self._extra_pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) != self.pgid:
                    os.kill(pid, sig)

    def stop(self, grace: float = 5.0) -> None:
        """Stop the tree: SIGTERM, then SIGKILL after `grace` seconds. Idempotent."""
        _stop_children([self], grace)


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


def _stop_children(children: Sequence[Child], grace: float) -> None:
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


# --- supervisor -----------------------------------------------------------------------------------

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
        _stop_children(list(reversed(self._children.values())), self.grace)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()
