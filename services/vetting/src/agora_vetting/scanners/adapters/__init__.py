"""The scanners, and the package's tests: how each is invoked, how its output becomes `Finding`s.

Every scanner runs in the private copy of the source (its working directory, target `.`), so
the paths it reports are already relative to the scanned root. The agent's own ways of
silencing a scanner are not honoured: bandit's `# nosec` and `.bandit` files, semgrep's
`# nosemgrep` and `.semgrepignore` files, detect-secrets' `pragma: allowlist secret`. A
scanner that could not read every file (syntax errors, rule timeouts, dependencies it could not
audit) reports a problem: its result is `failed`, with what it did find kept.
"""

from __future__ import annotations

from collections.abc import Callable

from agora_vetting.scanners.adapters.bandit import Bandit
from agora_vetting.scanners.adapters.base import Adapter, OutputError, Parsed, Prepared, ScanContext
from agora_vetting.scanners.adapters.package_tests import PackageTests
from agora_vetting.scanners.adapters.pip_audit import PipAudit
from agora_vetting.scanners.adapters.secrets_scan import DetectSecrets
from agora_vetting.scanners.adapters.semgrep import SEMGREP_ADDRESS_RESERVE_MB, Semgrep
from agora_vetting.scanners.models import ScannerName

ADAPTERS: dict[ScannerName, Callable[[], Adapter]] = {
    "bandit": Bandit,
    "semgrep": Semgrep,
    "detect-secrets": DetectSecrets,
    "pip-audit": PipAudit,
    "tests": PackageTests,
}

__all__ = [
    "ADAPTERS",
    "SEMGREP_ADDRESS_RESERVE_MB",
    "Adapter",
    "Bandit",
    "DetectSecrets",
    "OutputError",
    "PackageTests",
    "Parsed",
    "PipAudit",
    "Prepared",
    "ScanContext",
    "Semgrep",
]
