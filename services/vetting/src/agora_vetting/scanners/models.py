"""What a static scan reports: findings, one result per scanner, and the scan with its verdict."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# "tests": the package's own tests, run in the sandbox (see adapters.package_tests).
ScannerName = Literal["bandit", "semgrep", "detect-secrets", "pip-audit", "tests"]
ALL_SCANNERS: tuple[ScannerName, ...] = get_args(ScannerName)

Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[Severity, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# Findings at these severities spoil a verdict; low ones (bandit's B101 assert, a shell=True on a
# fixed command, ...) stay in the results for an admin to read but do not.
SERIOUS: frozenset[Severity] = frozenset({"medium", "high", "critical"})

# ok: the scanner ran to the end and its output was read (findings or none).
# failed: it ran but gave no complete answer (crashed, unreadable output, files it could not
#   parse, dependencies it could not audit, over its memory or output cap).
# timeout: killed at its wall-clock cap. unavailable: its executable (or rules) is missing, or
#   it cannot run isolated here.
# skipped: the check does not apply to this source (the tests check, for a source without
#   tests); `reason` says why. It does not spoil a verdict, and vouches for nothing.
ScannerStatus = Literal["ok", "failed", "timeout", "unavailable", "skipped"]
Verdict = Literal["clean", "findings", "inconclusive"]

MESSAGE_MAX_CHARS = 300


class Finding(BaseModel):
    """One thing a scanner flagged, normalised across scanners.

    `message` never holds a secret's value: secrets are reported by type and place only.
    """

    model_config = ConfigDict(frozen=True)

    scanner: ScannerName
    rule_id: str
    severity: Severity
    path: str  # relative to the scanned root, "/"-separated
    line: int | None = None
    message: str = Field(max_length=MESSAGE_MAX_CHARS)

    @property
    def serious(self) -> bool:
        return self.severity in SERIOUS


class ScannerResult(BaseModel):
    name: ScannerName
    version: str | None = None  # from `<tool> --version`
    status: ScannerStatus
    reason: str | None = None  # why not ok; or, when ok, a note (e.g. nothing to audit)
    findings: list[Finding] = Field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def finished(self) -> bool:
        """Ran to the end, or had nothing to do (skipped): either way, no reason to doubt."""
        return self.status in ("ok", "skipped")


class ScanScope(BaseModel):
    """What was scanned: the scanners asked for, and the source (by name, never a host path)."""

    scanners: list[ScannerName]
    root: str  # the label of the source, e.g. "agents/genesis"; by default the folder's name
    files: int  # files read (and digested), after skipping caches and virtualenvs
    bytes: int


class ScanVerdict(BaseModel):
    verdict: Verdict
    reason: str | None = None
    serious_findings: int = 0


class StaticScan(BaseModel):
    """The static part of an agent's security scan.

    `digest` is the SHA-256 (hex) of the source as scanned (see `source.source_digest`); None
    when the source was too large to read.
    """

    scope: ScanScope
    digest: str | None
    results: list[ScannerResult]
    duration_ms: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    def verdict(self) -> ScanVerdict:
        """The verdict rule.

        - `findings`: any finding of severity medium or above, from any scanner (even one that
          did not finish: what it did report is real). Low findings never count.
        - `inconclusive`: otherwise, when any scanner did not finish (failed, timeout,
          unavailable): the scan cannot vouch for the source. `reason` names each one.
        - `clean`: every scanner finished (or had nothing to check) and found nothing above low.

        With findings, `reason` still names the scanners that did not finish, if any.
        """
        serious = sum(1 for finding in self.findings if finding.serious)
        unfinished = [r for r in self.results if not r.finished]
        why = [f"{r.name}: {r.status}" + (f" ({r.reason})" if r.reason else "") for r in unfinished]
        reason = "; ".join(why)[:1000] or None
        if serious:
            return ScanVerdict(verdict="findings", reason=reason, serious_findings=serious)
        if unfinished or not self.results:
            return ScanVerdict(verdict="inconclusive", reason=reason or "no scanner ran")
        return ScanVerdict(verdict="clean")
