"""`run_static_scan`: copy the source, run the scanners side by side under caps, gather results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from agora_vetting.scanners.adapters import ADAPTERS, Adapter, OutputError, Prepared, ScanContext
from agora_vetting.scanners.models import (
    ALL_SCANNERS,
    Finding,
    ScannerName,
    ScannerResult,
    ScannerStatus,
    ScanScope,
    StaticScan,
)
from agora_vetting.scanners.requirements import PLATFORM_PACKAGES
from agora_vetting.scanners.sandbox import MIB, Completed, Limits, run_capped, scanner_env
from agora_vetting.scanners.source import SourceTooLarge, copy_source
from agora_vetting.scanners.tools import DEFAULT_SEMGREP_RULES, env_override_name, tool_version

log = logging.getLogger("agora.vetting.scanners")

# Per scanner process. Measured on agents/genesis (10 files, 253 lines of Python) on a 2-core
# machine, scanners side by side: semgrep 3-5 s (mostly its start-up), bandit and detect-secrets
# about 1 s, pip-audit 2 s when everything is pinned (13 s when pip must resolve); the whole
# scan about 4 s (5 s in a fresh process, which also asks each tool for its version). The cap
# leaves room for sources a hundred times larger.
DEFAULT_TIMEOUT_S = 120.0
# Address space per scanner process (RLIMIT_AS), and semgrep's own heap cap (--max-memory).
# Measured minimums: bandit 48 MiB, detect-secrets and pip-audit (pinned) 64 MiB. semgrep's
# resident peak is ~125 MiB, but its address space gets a fixed reserve on top of this cap
# (adapters.SEMGREP_ADDRESS_RESERVE_MB: 2.5 GiB it maps and never touches).
DEFAULT_MEMORY_MB = 1024
MAX_OUTPUT_BYTES = 32 * MIB

_MEMORY_SIGNS = (
    "MemoryError",
    "Cannot allocate memory",
    "out of memory",
    "Not enough heap memory",
    "engine was killed",
)


async def run_static_scan(
    root: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    scanners: Sequence[ScannerName] = ALL_SCANNERS,
    executables: Mapping[ScannerName, str | Path] | None = None,
    semgrep_rules: Path | None = None,
    label: str | None = None,
    platform_packages: Collection[str] = PLATFORM_PACKAGES,
) -> StaticScan:
    """Scan the agent source in the folder `root` with `scanners`; never raises for what a
    scanner does (a missing, failing or slow scanner is a result), only for a `root` that is
    not a readable folder (`NotADirectoryError`, `FileNotFoundError`) or an unknown scanner.

    `timeout_s` and `memory_mb` cap each scanner process, the package's tests included (wall
    clock; address space, see `DEFAULT_MEMORY_MB`). The scanners run concurrently: their waits
    (semgrep's start-up, pip-audit's network) overlap, so a scan takes about as long as semgrep
    alone; memory is bounded by the sum of the caps. `executables` overrides where a scanner
    is found (see `tools`), `semgrep_rules` the rules file, `label` the name the scope gives
    the source (by default the folder's name; never a host path).
    """
    started = time.perf_counter()
    root = await asyncio.to_thread(_folder, root)
    wanted: list[ScannerName] = list(dict.fromkeys(scanners))
    unknown = [name for name in wanted if name not in ADAPTERS]
    if unknown:
        raise ValueError(f"unknown scanners: {unknown}")
    overrides = executables or {}
    base = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="agora-scan-"))
    try:
        try:
            tree = await asyncio.to_thread(copy_source, root, base / "src")
        except SourceTooLarge as exc:
            results = [
                ScannerResult(name=name, status="failed", reason=f"source too large: {exc}")
                for name in wanted
            ]
            scope = ScanScope(scanners=wanted, root=label or root.name, files=0, bytes=0)
            return StaticScan(scope=scope, digest=None, results=results, duration_ms=_ms(started))
        results = list(
            await asyncio.gather(
                *(
                    _run_one(
                        ADAPTERS[name](),
                        base=base,
                        timeout_s=timeout_s,
                        memory_mb=memory_mb,
                        override=overrides.get(name),
                        rules=semgrep_rules or DEFAULT_SEMGREP_RULES,
                        platform_packages=frozenset(platform_packages),
                    )
                    for name in wanted
                )
            )
        )
    finally:
        await asyncio.to_thread(remove_tree, base)
    scope = ScanScope(
        scanners=wanted, root=label or root.name, files=len(tree.files), bytes=tree.bytes
    )
    return StaticScan(scope=scope, digest=tree.digest, results=results, duration_ms=_ms(started))


async def _run_one(
    adapter: Adapter,
    *,
    base: Path,
    timeout_s: float,
    memory_mb: int,
    override: str | Path | None,
    rules: Path,
    platform_packages: frozenset[str],
) -> ScannerResult:
    started = time.perf_counter()
    setup = await asyncio.to_thread(
        _set_up, adapter, base, override, rules, memory_mb, platform_packages
    )
    if isinstance(setup, ScannerResult):
        return setup
    executable, ctx, env = setup
    address_space = adapter.address_space_mb(memory_mb)
    version = asyncio.create_task(
        tool_version(
            executable,
            cwd=ctx.work,
            env=env,
            address_space_mb=address_space,
            args=adapter.version_args,
        )
    )
    try:
        status, reason, findings = await _scan(
            adapter, executable, ctx, env, Limits(timeout_s, address_space, MAX_OUTPUT_BYTES)
        )
    except asyncio.CancelledError:
        version.cancel()
        raise
    except Exception as exc:  # a bug here must not sink the other scanners' results
        log.exception("scanner %s failed unexpectedly", adapter.name)
        status, reason, findings = "failed", f"internal error: {type(exc).__name__}", []
    found_version = await _version(version)
    return ScannerResult(
        name=adapter.name,
        version=found_version,
        status=status,
        reason=reason,
        findings=sorted(findings, key=lambda f: (f.path, f.line or 0, f.rule_id)),
        duration_ms=_ms(started),
    )


def remove_tree(root: Path) -> None:
    """Remove `root` and everything in it, also folders the package's tests made unreadable
    (mode 000) in their copy; never through a link."""
    unlocked: set[str] = set()

    def unlock(_function: object, path: str, _error: object) -> None:
        # Once per path: what a chmod does not cure is left for the temporary folder's cleanup.
        if path in unlocked:
            return
        unlocked.add(path)
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, onerror=unlock)
            else:
                os.unlink(path)

    shutil.rmtree(root, onerror=unlock)


def _folder(root: Path) -> Path:
    root = root.resolve(strict=True)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root.name}")
    return root


def _set_up(
    adapter: Adapter,
    base: Path,
    override: str | Path | None,
    rules: Path,
    memory_mb: int,
    platform_packages: frozenset[str],
) -> ScannerResult | tuple[Path, ScanContext, dict[str, str]]:
    """The scanner's executable, context and environment; or why it cannot run."""
    name = adapter.name
    executable = adapter.locate(override)
    if executable is None:
        where = f"the path given for it, {env_override_name(name)}, its environment and PATH"
        reason = f"{adapter.executable} not found (looked in {where})"
        return ScannerResult(name=name, status="unavailable", reason=reason)
    if name == "semgrep" and not rules.is_file():
        return ScannerResult(name=name, status="unavailable", reason="semgrep rules not found")
    work = base / "work" / name
    work.mkdir(parents=True)
    ctx = ScanContext(
        src=base / "src",
        work=work,
        memory_mb=memory_mb,
        semgrep_rules=rules,
        platform_packages=platform_packages,
        executable=executable,
    )
    home = base / "home" / name
    env = scanner_env(
        home, bin_dir=executable.parent, online=adapter.online, extra=adapter.env(ctx)
    )
    return executable, ctx, env


async def _scan(
    adapter: Adapter, executable: Path, ctx: ScanContext, env: dict[str, str], limits: Limits
) -> tuple[ScannerStatus, str | None, list[Finding]]:
    prepared: Prepared = await asyncio.to_thread(adapter.prepare, ctx)
    if prepared.args is None:
        reason = "; ".join(prepared.problems) or prepared.note
        if prepared.problems:
            return "failed", reason, prepared.findings
        return ("skipped" if prepared.skipped else "ok"), reason, prepared.findings
    if (missing := adapter.unavailable()) is not None:
        return "unavailable", missing, prepared.findings
    completed = await run_capped(
        [executable, *prepared.args], cwd=prepared.cwd or ctx.src, env=env, limits=limits
    )
    if completed.timed_out:
        return "timeout", f"no answer within {limits.timeout_s:g} s; killed", prepared.findings
    if completed.output_exceeded:
        reason = f"output over {limits.max_output_bytes // MIB} MiB; killed"
        return "failed", reason, prepared.findings
    if completed.exec_failed:
        return "unavailable", completed.stderr_tail(), prepared.findings
    try:
        parsed = adapter.parse(completed, prepared)
    except OutputError as exc:
        return "failed", _with_memory_hint(str(exc), completed, limits), prepared.findings
    if parsed.problems:
        reason = _with_memory_hint("; ".join(parsed.problems), completed, limits)
        return "failed", reason[:1000], parsed.findings
    return ("skipped" if parsed.skipped else "ok"), parsed.note, parsed.findings


def _with_memory_hint(reason: str, completed: Completed, limits: Limits) -> str:
    text = completed.stderr + reason
    if any(sign in text for sign in _MEMORY_SIGNS):
        return f"over its memory cap ({limits.address_space_mb} MiB address space): {reason}"
    return reason


async def _version(task: asyncio.Task[str | None]) -> str | None:
    try:
        return await task
    except OSError:
        return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
