"""semgrep: the platform's rules (services/vetting/semgrep), `# nosemgrep` not honoured."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agora_vetting.scanners.adapters.base import (
    Adapter,
    Parsed,
    Prepared,
    ScanContext,
    relative,
    short,
)
from agora_vetting.scanners.models import Finding, Severity
from agora_vetting.scanners.sandbox import Completed

# semgrep-core reserves about 2.5 GiB of address space it never touches (1 GiB thread stacks and
# heap reservations): measured with `-j 1` on agents/genesis, VmPeak 2.6 GiB against a resident
# peak of 124 MiB. Its RLIMIT_AS is therefore the memory cap plus this reserve, and its real
# heap is held to the memory cap by semgrep's own `--max-memory`.
SEMGREP_ADDRESS_RESERVE_MB = 2560


class _SemgrepPosition(BaseModel):
    line: int | None = None


class _SemgrepExtra(BaseModel):
    message: str = ""
    severity: str = "WARNING"


class _SemgrepResult(BaseModel):
    check_id: str
    path: str
    start: _SemgrepPosition
    extra: _SemgrepExtra


class _SemgrepError(BaseModel):
    level: str = "error"
    type: Any = None
    message: str = ""
    path: str | None = None


class _SemgrepReport(BaseModel):
    results: list[_SemgrepResult]
    errors: list[_SemgrepError] = []


_SEMGREP_SEVERITY: dict[str, Severity] = {
    "INFO": "low",
    "LOW": "low",
    "INVENTORY": "low",
    "EXPERIMENT": "low",
    "WARNING": "medium",
    "MEDIUM": "medium",
    "ERROR": "high",
    "HIGH": "high",
    "CRITICAL": "critical",
}


class Semgrep(Adapter):
    name = "semgrep"
    executable = "semgrep"
    # 0: ran (findings or not); 2: ran but hit errors, which the JSON lists.
    ok_exit_codes = frozenset({0, 1, 2})

    def address_space_mb(self, memory_mb: int) -> int:
        return memory_mb + SEMGREP_ADDRESS_RESERVE_MB

    def env(self, ctx: ScanContext) -> dict[str, str]:
        return {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}

    def prepare(self, ctx: ScanContext) -> Prepared:
        return Prepared(
            args=[
                "scan",
                "--config",
                str(ctx.semgrep_rules),
                "--json",
                "--metrics=off",
                "--disable-version-check",
                "--quiet",
                "--no-rewrite-rule-ids",
                "--disable-nosem",
                "--no-git-ignore",
                # Internal flag (semgrep is pinned by tools/semgrep/uv.lock; the tests notice if
                # it goes): without it a `.semgrepignore` in the agent hides files from the rules,
                # and semgrep's default ignore list skips tests/ folders.
                "--x-ignore-semgrepignore-files",
                "--max-target-bytes=0",
                f"--max-memory={ctx.memory_mb}",
                # One worker: each reserves 1 GiB of address space, and the scanners run side by
                # side on a small machine.
                "--jobs=1",
                ".",
            ]
        )

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        report = self._report(_SemgrepReport, completed)
        findings = [
            Finding(
                scanner=self.name,
                rule_id=result.check_id,
                severity=_SEMGREP_SEVERITY.get(result.extra.severity.upper(), "medium"),
                path=relative(result.path),
                line=result.start.line,
                message=short(result.extra.message or result.check_id),
            )
            for result in report.results
        ]
        problems = [
            short(
                f"{relative(e.path) + ': ' if e.path else ''}{_error_type(e.type)} {e.message}",
                160,
            )
            for e in report.errors
        ]
        if not problems and completed.returncode != 0:
            problems = [f"exit status {completed.returncode}: {completed.stderr_tail()}"]
        return Parsed(findings, problems)


def _error_type(value: Any) -> str:
    if isinstance(value, list) and value:
        return str(value[0])
    return str(value) if value else "error"
