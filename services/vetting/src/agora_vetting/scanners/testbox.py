"""The box a package's tests run in: a script, run as `python -I -S testbox.py [options] -- argv`.

The static scanners are tools the platform trusts, reading a source; a package's tests are the
package's own code, run. So on top of the caps every scanner runs under (`sandbox.run_capped`:
address space, wall clock, output, an empty environment, the process group killed at the end),
the command runs in new Linux namespaces, entered without privileges:

- user: no capability on the host, whoever the service runs as (even root); the service's uid
  is not mapped inside, so nothing the tests exec gains a capability there either, and
  `no_new_privs` is set (set-uid programs and file capabilities give nothing);
- network: only a loopback interface of its own. No route out: not the metadata server (the
  service's credentials), not the internet, not the service's peers or emulators;
- process ids: the command's init (this script, forked) is process 1 of its own namespace, and
  when it exits (the command ended, or the group was killed at a cap) the kernel kills every
  process left in it, including any that left the process group (`setsid`, double forks). Its
  init counts the namespace's processes and kills them all past `--max-processes` (a fork bomb);
  `RLIMIT_NPROC` caps processes and threads too, where the kernel applies it (not to root);
- mounts: every mount read-only except the `--writable` folders (the tests' copy of the source,
  their HOME and TMPDIR), and a /proc of the namespace's own processes (the service's
  environment is not there to read). Files are capped at `--max-file-mb` each (RLIMIT_FSIZE).

Without user, network and pid namespaces (a kernel or container that forbids them) nothing is
run: the script prints the sandbox's "cannot execute" mark and exits 127, and the check is
`unavailable`. The mount steps are best effort; what could not be done is printed on stderr
(`test-sandbox: not applied: ...`) and the adapter notes it on the result.

Standard library only (it runs with -I -S), and nothing but this script runs between the
namespaces being entered and the command being executed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import resource
import signal
import socket
import struct
import sys
import time
from collections.abc import Sequence

EXEC_FAILED = 127
EXEC_FAILED_MARK = "scanner-sandbox: cannot execute"  # sandbox.EXEC_FAILED_MARK
MARK = "test-sandbox:"
OVER_PROCESSES = 125  # exit status when the init killed everything past --max-processes
NOT_APPLIED = f"{MARK} not applied:"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_NOSUID = 0x1, 0x2
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (a syscall of Linux 5.12)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38
_SIOCSIFFLAGS = 0x8914
_IFF_UP, _IFF_LOOPBACK, _IFF_RUNNING = 0x1, 0x8, 0x40
_POLL_S = 0.02


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _say(line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode("utf-8", "replace"))


def _mount_setattr(libc: ctypes.CDLL, path: str, flags: int, attr: _MountAttr) -> None:
    result = libc.syscall(
        _SYS_MOUNT_SETATTR,
        _AT_FDCWD,
        path.encode(),
        flags,
        ctypes.byref(attr),
        ctypes.sizeof(attr),
    )
    _check(0 if result == 0 else -1, f"read-only mounts ({path})")


def _read_only_except(libc: ctypes.CDLL, writable: Sequence[str]) -> None:
    """Every mount read-only and set-uid-free, but bind mounts of `writable` stay writable."""
    _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "private mounts")
    for folder in writable:
        raw = folder.encode()
        _check(libc.mount(raw, raw, None, _MS_BIND | _MS_REC, None), f"bind {folder}")
    _mount_setattr(
        libc, "/", _AT_RECURSIVE, _MountAttr(_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID, 0, 0, 0)
    )
    for folder in writable:
        _mount_setattr(libc, folder, _AT_RECURSIVE, _MountAttr(0, _MOUNT_ATTR_RDONLY, 0, 0))


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack("16sH22x", b"lo", _IFF_UP | _IFF_LOOPBACK | _IFF_RUNNING)
        fcntl.ioctl(sock, _SIOCSIFFLAGS, ifreq)


def _own_proc(libc: ctypes.CDLL) -> bool:
    """/proc of this pid namespace (run as its process 1); else an empty read-only /proc, so
    the host's processes (the service's environment) cannot be read. True: processes countable."""
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    if libc.mount(b"proc", b"/proc", b"proc", flags, None) == 0:
        return True
    _say(f"{NOT_APPLIED} a /proc of its own ({os.strerror(ctypes.get_errno())})")
    if libc.mount(b"tmpfs", b"/proc", b"tmpfs", flags | 1, b"size=4k") != 0:
        _say(f"{NOT_APPLIED} hiding the host's /proc ({os.strerror(ctypes.get_errno())})")
    return False


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _init(libc: ctypes.CDLL, argv: Sequence[str], max_processes: int) -> None:
    """Process 1 of the namespace: start the command, reap every orphan, end with the command."""
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    countable = _own_proc(libc)
    command = os.fork()
    if command == 0:
        try:
            os.execv(argv[0], list(argv))  # noqa: S606 (pytest, inside the box)
        except OSError as exc:
            _say(f"{EXEC_FAILED_MARK}: {exc}")
        os._exit(EXEC_FAILED)
    code: int | None = None
    while code is None:
        with contextlib.suppress(ChildProcessError):
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid == command:
                    code = _exit_code(status)
        if code is None and countable:
            processes = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
            if processes > max_processes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(-1, signal.SIGKILL)
                _say(f"{MARK} over {max_processes} processes; every process of the tests killed")
                code = OVER_PROCESSES
        if code is None:
            time.sleep(_POLL_S)
    # Whatever the command left behind dies with this process; said explicitly all the same.
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    os._exit(code)


def main(args: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="testbox")
    parser.add_argument("--writable", action="append", default=[])
    parser.add_argument("--max-processes", type=int, default=64)
    parser.add_argument("--max-threads", type=int, default=512)
    parser.add_argument("--max-file-mb", type=int, default=64)
    parser.add_argument("command", nargs="+")
    options = parser.parse_args(args)
    libc = _libc()
    try:
        _check(
            libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWPID | _CLONE_NEWNS),
            "user, network, pid and mount namespaces",
        )
    except OSError as exc:
        _say(f"{EXEC_FAILED_MARK}: cannot isolate the tests here ({exc.strerror})")
        return EXEC_FAILED
    try:
        _read_only_except(libc, [os.path.realpath(w) for w in options.writable])
    except OSError as exc:
        _say(f"{NOT_APPLIED} a read-only file system ({exc.strerror})")
    try:
        _loopback_up()
    except OSError as exc:  # tests that serve on 127.0.0.1 fail; nothing else is lost
        _say(f"{NOT_APPLIED} a loopback interface ({exc.strerror})")
    file_bytes = options.max_file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    # Counted per user in this user namespace (threads too); the kernel ignores it for root.
    resource.setrlimit(resource.RLIMIT_NPROC, (options.max_threads, options.max_threads))
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    # This script and the init keep capabilities inside the namespaces (they mounted things):
    # not dumpable, so the tests cannot trace them or read their memory to use those.
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    init = os.fork()
    if init == 0:
        try:
            _init(libc, options.command, options.max_processes)
        finally:
            os._exit(EXEC_FAILED)
    _, status = os.waitpid(init, 0)
    return _exit_code(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
