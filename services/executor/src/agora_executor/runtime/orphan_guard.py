"""Runs an agent module so that it dies with the executor: `python -m <this> PARENT MODE MODULE`.

`pdeathsig` (Linux): ask the kernel to SIGKILL this process when its parent dies, then exec the
agent in place (the setting survives exec). `watchdog` (elsewhere): run the agent as a child in this
process group and kill the whole group once the parent is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType
from typing import NoReturn

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.5
MODES = ("pdeathsig", "watchdog")


def _orphaned(parent: int) -> bool:
    """True once the process that started us is gone (we were re-parented)."""
    return os.getppid() != parent


def run_with_pdeathsig(parent: int, argv: list[str]) -> NoReturn:
    """Die with the parent (kernel-enforced), then become the agent."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if _orphaned(parent):  # the parent died before the setting took effect
        os._exit(1)
    os.execv(argv[0], argv)  # noqa: S606 - our own interpreter and a checked module name


def run_with_watchdog(parent: int, argv: list[str]) -> int:
    """Run the agent as a child, forward stop signals, kill the group if the parent goes."""
    child = subprocess.Popen(argv)  # noqa: S603 - our own interpreter and a checked module name

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            code = child.wait(timeout=WATCH_INTERVAL_S)
        except subprocess.TimeoutExpired:
            if _orphaned(parent):
                os.killpg(0, signal.SIGKILL)
            continue
        return code if code >= 0 else 128 - code


def main(args: list[str]) -> int:
    """Parse `PARENT MODE MODULE` and run MODULE under the chosen guard."""
    parent, mode, module = int(args[0]), args[1], args[2]
    argv = [sys.executable, "-m", module]
    if mode == "pdeathsig":
        run_with_pdeathsig(parent, argv)
    if mode == "watchdog":
        return run_with_watchdog(parent, argv)
    raise SystemExit(f"unknown guard mode {mode!r}; expected one of {', '.join(MODES)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
