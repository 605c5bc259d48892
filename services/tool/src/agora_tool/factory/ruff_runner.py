"""The `ruff` binary of this environment, run on generated code in a subprocess with a timeout.

Generated packages carry their own `ruff.toml`; every run here uses that file and nothing else
(`--config` stops ruff from reading any configuration around the working directory).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ruff import find_ruff_bin  # type: ignore[import-untyped]

from agora_tool.factory.errors import GenerationFailed

TIMEOUT_S = 20.0


@cache
def ruff_binary() -> str:
    return str(find_ruff_bin())


@dataclass(frozen=True)
class RuffRun:
    returncode: int
    stdout: str
    stderr: str


def run_ruff(args: list[str], *, cwd: Path, stdin: str | None = None) -> RuffRun:
    """`ruff ARGS` in `cwd`; GenerationFailed if it cannot run or takes too long."""
    try:
        done = subprocess.run(  # noqa: S603 - our own binary, arguments we build
            [ruff_binary(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=TIMEOUT_S,
            check=False,
            env={"NO_COLOR": "1", "RUFF_NO_CACHE": "true"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GenerationFailed("The code formatter did not run to its end") from exc
    return RuffRun(done.returncode, done.stdout, done.stderr)


def format_source(source: str, filename: str, *, config: Path) -> str:
    """`source` with its imports sorted, unused ones removed, then formatted (ruff, stdin)."""
    where = ["--config", str(config), "--stdin-filename", filename]
    fixed = run_ruff(
        ["check", *where, "--fix-only", "--exit-zero", "--select", "I,F401", "-"],
        cwd=config.parent,
        stdin=source,
    )
    if fixed.returncode != 0:
        raise GenerationFailed(f"ruff could not fix imports of {filename}")
    formatted = run_ruff(["format", *where, "-"], cwd=config.parent, stdin=fixed.stdout)
    if formatted.returncode != 0:
        raise GenerationFailed(f"ruff could not format {filename}")
    return formatted.stdout
