"""The static part of an agent's security scan: well-known scanners over the agent's source.

    scan = await run_static_scan(Path("agents/genesis"), timeout_s=120, memory_mb=1024)
    scan.verdict()  # ScanVerdict(verdict="clean" | "findings" | "inconclusive", reason=...)

The source folder is copied once (caches and virtualenvs left out) and digested
(`StaticScan.digest`, see `source`); then bandit, semgrep (with the rules in
services/vetting/semgrep/rules.yml), detect-secrets, pip-audit and the package's own tests
(pytest, in the box of `testbox`: see `adapters.package_tests`) run concurrently on the copy,
each as a subprocess under a wall-clock cap (the whole process group is killed), an address
space cap, an output cap, and an environment of its own (`sandbox`). Each gives a
`ScannerResult`: status ok | failed | timeout | unavailable | skipped (nothing to check: a
source without tests), its version, and its findings normalised to `Finding` (severity low |
medium | high | critical, path relative to the root, never a secret's value).

Verdict (`StaticScan.verdict`): `findings` if anything medium or above was found; else
`inconclusive` if any scanner did not finish (skipped is not unfinished); else `clean`. Low
findings (bandit's B101 assert, B404 import of subprocess, a low-confidence guess; a
shell=True on a fixed command) are kept for an admin to read but never spoil a verdict.
"""

from agora_vetting.scanners.models import (
    ALL_SCANNERS,
    SERIOUS,
    Finding,
    ScannerName,
    ScannerResult,
    ScannerStatus,
    ScanScope,
    ScanVerdict,
    Severity,
    StaticScan,
    Verdict,
)
from agora_vetting.scanners.runner import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, run_static_scan
from agora_vetting.scanners.source import source_digest

__all__ = [
    "ALL_SCANNERS",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT_S",
    "SERIOUS",
    "Finding",
    "ScanScope",
    "ScanVerdict",
    "ScannerName",
    "ScannerResult",
    "ScannerStatus",
    "Severity",
    "StaticScan",
    "Verdict",
    "run_static_scan",
    "source_digest",
]
