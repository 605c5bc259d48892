"""Package checks: the Tool Factory's verification of a package it generated, before any card.

The files arrive in the request (paths validated by `models.PackageCheckRequest`), are written
into a fresh folder, and get the static checks a submitted agent's source gets, and its tests:
bandit, semgrep, detect-secrets and the tests check, side by side under the scanners' caps.
Not pip-audit: a package may depend only on what the platform provides, so there is nothing
third-party to audit, and pip-audit would need the network (PyPI) for every check.

A check runs within its request, which the tool service makes from a background job. At most
`concurrency` run at once (each is four processes side by side, one of them the package's own
code); a caller beyond them waits up to `wait_s` for a turn, then gets 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from agora_common.errors import ServiceUnavailable
from agora_vetting.models import PackageCheck, PackageCheckRequest
from agora_vetting.scanners import ScannerName, run_static_scan
from agora_vetting.scanning import check_of, verdict_of

log = logging.getLogger("agora.vetting.packages")

PACKAGE_SCANNERS: tuple[ScannerName, ...] = ("bandit", "semgrep", "detect-secrets", "tests")


class PackageChecksBusy(ServiceUnavailable):
    code, message = "PACKAGE_CHECKS_BUSY", "Every package check slot is busy; try again shortly"


class PackageChecker:
    def __init__(
        self,
        *,
        timeout_s: float,
        memory_mb: int,
        concurrency: int,
        wait_s: float,
        scanners: Sequence[ScannerName] = PACKAGE_SCANNERS,
        executables: Mapping[ScannerName, str | Path] | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._memory_mb = memory_mb
        self._wait_s = wait_s
        self._slots = asyncio.Semaphore(concurrency)
        self._scanners = tuple(scanners)
        self._executables = executables

    async def check(self, request: PackageCheckRequest) -> PackageCheck:
        try:
            async with asyncio.timeout(self._wait_s):
                await self._slots.acquire()
        except TimeoutError:
            retry = str(max(1, math.ceil(self._wait_s)))
            raise PackageChecksBusy(headers={"Retry-After": retry}) from None
        try:
            return await self._run(request)
        finally:
            self._slots.release()

    async def _run(self, request: PackageCheckRequest) -> PackageCheck:
        started = time.perf_counter()
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="agora-package-"))
        try:
            root = folder / "package"
            await asyncio.to_thread(write_files, root, request.files)
            scan = await run_static_scan(
                root,
                timeout_s=self._timeout_s,
                memory_mb=self._memory_mb,
                scanners=self._scanners,
                executables=self._executables,
                label=request.label,
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
        checks = [check_of(result) for result in scan.results]
        verdict, reason = verdict_of(checks)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info(
            "package checked",
            extra={"label": request.label, "verdict": verdict, "duration_ms": duration_ms},
        )
        return PackageCheck(
            label=request.label,
            verdict=verdict,
            reason=reason,
            checks=checks,
            source_digest=scan.digest,
            duration_ms=duration_ms,
        )


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Each file at its (validated) relative path under the new folder `root`; never through a
    link, never over another file."""
    root.mkdir()
    for path, text in files.items():
        target = root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(target, flags, 0o644), "w", encoding="utf-8", newline="") as out:
            out.write(text)
