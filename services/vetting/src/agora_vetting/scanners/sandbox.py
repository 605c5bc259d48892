"""Run one scanner process under caps: address space, wall clock, output size, environment.

- Memory: RLIMIT_AS (and no core files), set by a tiny trampoline (`python -I -S -c ...`) that
  then execs the tool. Not `preexec_fn`: forking a process that has threads (the service's
  gRPC and HTTP clients) and running Python code in the child before exec can deadlock.
- Time: the process leads a new session (its own process group); past the wall-clock cap the
  whole group gets SIGKILL, so helpers it started (semgrep-core, pip) die with it. The group is
  killed at the end of every run too, in case something stayed behind.
- Output: stdout is read up to a cap; past it the group is killed and the run is marked. Only
  the tail of stderr is kept, for the reason of a failure.
- Environment: built from nothing (`scanner_env`): no inherited credentials, tokens or service
  settings (GOOGLE_*, AGORA_*, ...), HOME in a fresh temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~/:])/(?:[^\s/:'\"()]+/)+([^\s/:'\"()]*)")
MIB = 1024 * 1024
STDERR_TAIL_BYTES = 16 * 1024
# Exit status of the trampoline when the tool cannot be executed at all.
EXEC_FAILED = 127
EXEC_FAILED_MARK = "scanner-sandbox: cannot execute"

_TRAMPOLINE = f"""
import os, resource, sys
limit = int(sys.argv[1])
if limit > 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
try:
    os.execv(sys.argv[2], sys.argv[2:])
except OSError as exc:
    sys.stderr.write("{EXEC_FAILED_MARK}: %s\\n" % exc)
    os._exit({EXEC_FAILED})
"""

# Variables a scanner may see besides PATH, HOME and the locale: where the trust store is, so a
# tool that goes online (pip-audit) verifies TLS as the host does. Paths, never secrets.
TLS_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")
# And, for tools that go online only, the host's proxy settings.
PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    address_space_mb: int  # RLIMIT_AS; 0 for none
    max_output_bytes: int = 32 * MIB


@dataclass(frozen=True)
class Completed:
    """How a capped run ended. `returncode` is None when the run was cut (timeout, output)."""

    returncode: int | None
    stdout: bytes
    stderr: str  # the tail only
    timed_out: bool
    output_exceeded: bool
    duration_ms: float

    @property
    def exec_failed(self) -> bool:
        return self.returncode == EXEC_FAILED and EXEC_FAILED_MARK in self.stderr

    def stderr_tail(self, chars: int = 300, lines: int = 3) -> str:
        """The last lines of stderr on one line, for a reason; host paths cut to their last
        part (a reason is shown to admins and stored with the scan)."""
        kept = [line.strip() for line in self.stderr.splitlines() if line.strip()][-lines:]
        return without_host_paths(" | ".join(kept))[-chars:]


def without_host_paths(text: str) -> str:
    """`text` with every absolute path cut to its last part (`/tmp/agora-scan-x/src/a.py` →
    `…/a.py`): what a tool prints is shown to admins and stored, the host's layout is not."""
    return _ABSOLUTE_PATH.sub(r"…/\1", text)


def scanner_env(
    home: Path,
    *,
    bin_dir: Path | None = None,
    online: bool = False,
    extra: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A minimal environment: PATH (the tool's own bin directory first), HOME, TMPDIR, locale."""
    source = os.environ if environ is None else environ
    path = [str(bin_dir)] if bin_dir is not None else []
    path += [p for p in source.get("PATH", os.defpath).split(os.pathsep) if p and p not in path]
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    passed = TLS_ENV + (PROXY_ENV if online else ())
    env.update({name: source[name] for name in passed if source.get(name)})
    env.update(extra or {})
    return env


async def run_capped(
    argv: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    limits: Limits,
) -> Completed:
    """Run `argv` under `limits`; never raises for what the tool does (only for a bad `cwd`)."""
    started = time.perf_counter()
    command = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _TRAMPOLINE,
        str(limits.address_space_mb * MIB),
        *(str(arg) for arg in argv),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    overflow = asyncio.Event()
    stdout_task = asyncio.create_task(
        _read_capped(process.stdout, limits.max_output_bytes, overflow)
    )
    stderr_task = asyncio.create_task(_read_tail(process.stderr, STDERR_TAIL_BYTES))
    overflow_task = asyncio.create_task(overflow.wait())
    wait_task = asyncio.create_task(process.wait())
    timed_out = False
    try:
        done, _ = await asyncio.wait(
            {wait_task, overflow_task},
            timeout=limits.timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        timed_out = not done
    finally:
        # Whatever happened (done, cut, or this task cancelled), nothing of the group survives.
        _kill_group(process.pid)
        overflow_task.cancel()
        await asyncio.wait({overflow_task})
        await _settle(wait_task)
        stdout = await _settle(stdout_task)
        stderr = await _settle(stderr_task)
    cut = timed_out or overflow.is_set()
    return Completed(
        returncode=None if cut else process.returncode,
        stdout=stdout or b"",
        stderr=(stderr or b"").decode("utf-8", "replace"),
        timed_out=timed_out,
        output_exceeded=overflow.is_set() and not timed_out,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )


async def _read_capped(stream: asyncio.StreamReader, cap: int, overflow: asyncio.Event) -> bytes:
    buffer = bytearray()
    while chunk := await stream.read(64 * 1024):
        if overflow.is_set():
            continue  # drain to the end (the group is being killed), so the pipe closes
        if len(buffer) + len(chunk) > cap:
            overflow.set()
            continue
        buffer += chunk
    return bytes(buffer)


async def _read_tail(stream: asyncio.StreamReader, keep: int) -> bytes:
    tail = b""
    while chunk := await stream.read(64 * 1024):
        tail = (tail + chunk)[-keep:]
    return tail


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def _settle(task: asyncio.Task[_T], timeout_s: float = 5.0) -> _T | None:
    """The task's result once the group is dead; None if it does not end (a process that left
    the group still holds a pipe) or failed."""
    try:
        return await asyncio.wait_for(task, timeout_s)
    except (TimeoutError, OSError):
        return None
