"""Process-tree inspection from /proc: who is alive, and who descends from whom."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

__all__ = ["descendants", "group_alive", "pid_alive", "signal_group"]


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


def group_alive(pgid: int) -> bool:
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


def descendants(pid: int) -> set[int]:
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


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    table = _proc_table()
    return table is None or any(each == pid and state not in "ZX" for each, _, _, state in table)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
