"""Finding the scanners' executables and rules, and asking each for its version (cached).

An executable is looked for, in order:
1. the path passed for it (`executables={"semgrep": ...}`), and only there if given;
2. the path in `AGORA_<NAME>_BIN` (`AGORA_SEMGREP_BIN`, `AGORA_BANDIT_BIN`,
   `AGORA_DETECT_SECRETS_BIN`, `AGORA_PIP_AUDIT_BIN`), and only there if set;
3. the bin directory of this interpreter's environment (`sys.prefix`): the service's own venv,
   where bandit, detect-secrets and pip-audit are installed as its dependencies;
4. for semgrep, `tools/semgrep/.venv/bin` of the checkout (semgrep's own locked environment:
   its pins clash with the workspace's);
5. PATH.

The tests check is the exception: it runs this very interpreter (`sys.executable`, see
`adapters.package_tests`), unless a path is passed for it or `AGORA_TESTS_BIN` is set.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from agora_vetting.scanners.sandbox import Limits, run_capped

SEMGREP_VENV = Path("tools", "semgrep", ".venv")
# services/vetting/semgrep/rules.yml, beside this package's src folder; in the service image,
# where the package is installed elsewhere, `AGORA_SEMGREP_RULES` points at the copy it carries.
DEFAULT_SEMGREP_RULES = Path(
    os.environ.get("AGORA_SEMGREP_RULES")
    or Path(__file__).resolve().parents[3] / "semgrep" / "rules.yml"
)
VERSION_TIMEOUT_S = 60.0

_VERSION = re.compile(r"\d+(?:\.\d+)+")
_versions: dict[tuple[str, int, int, tuple[str, ...]], str] = {}


def env_override_name(name: str) -> str:
    return f"AGORA_{name.upper().replace('-', '_')}_BIN"


def resolve_executable(
    name: str,
    executable: str,
    override: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The scanner's executable, or None when it is not installed where it is looked for."""
    environ = os.environ if environ is None else environ
    explicit = override if override is not None else environ.get(env_override_name(name))
    if explicit:
        return _usable(Path(explicit))
    candidates = [Path(sys.prefix) / "bin" / executable]
    if name == "semgrep" and (checkout := _checkout_root()) is not None:
        candidates.append(checkout / SEMGREP_VENV / "bin" / executable)
    for candidate in candidates:
        if (found := _usable(candidate)) is not None:
            return found
    on_path = shutil.which(executable, path=environ.get("PATH", os.defpath))
    return _usable(Path(on_path)) if on_path else None


async def tool_version(
    executable: Path,
    *,
    cwd: Path,
    env: Mapping[str, str],
    address_space_mb: int,
    args: Sequence[str] = ("--version",),
) -> str | None:
    """`<tool> --version` (or `args`), parsed to its first dotted number; cached per executable
    file and arguments."""
    try:
        info = await asyncio.to_thread(executable.stat)
    except OSError:
        return None
    key = (str(executable), info.st_mtime_ns, info.st_size, tuple(args))
    if key in _versions:
        return _versions[key]
    completed = await run_capped(
        [executable, *args],
        cwd=cwd,
        env=env,
        limits=Limits(timeout_s=VERSION_TIMEOUT_S, address_space_mb=address_space_mb),
    )
    if completed.returncode != 0:
        return None
    match = _VERSION.search(completed.stdout.decode("utf-8", "replace"))
    if match is None:
        return None
    _versions[key] = match.group()
    return match.group()


def _usable(path: Path) -> Path | None:
    # Not resolved: a venv's bin/python symlink must stay inside the venv to find its packages.
    path = path.absolute()
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _checkout_root() -> Path | None:
    """The repository this package runs from (editable install), if any."""
    for parent in Path(__file__).resolve().parents:
        if (parent / SEMGREP_VENV.parent / "pyproject.toml").is_file():
            return parent
    return None
