"""The four scanners: how each is invoked, and how its output becomes `Finding`s.

Every scanner runs in the private copy of the source (its working directory, target `.`), so
the paths it reports are already relative to the scanned root. The agent's own ways of
silencing a scanner are not honoured: bandit's `# nosec` and `.bandit` files, semgrep's
`# nosemgrep` and `.semgrepignore` files, detect-secrets' `pragma: allowlist secret`. A
scanner that could not read every file (syntax errors, rule timeouts, dependencies it could not
audit) reports a problem: its result is `failed`, with what it did find kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from agora_vetting.scanners import requirements
from agora_vetting.scanners.models import MESSAGE_MAX_CHARS, Finding, ScannerName, Severity
from agora_vetting.scanners.sandbox import Completed

# semgrep-core reserves about 2.5 GiB of address space it never touches (1 GiB thread stacks and
# heap reservations): measured with `-j 1` on agents/genesis, VmPeak 2.6 GiB against a resident
# peak of 124 MiB. Its RLIMIT_AS is therefore the memory cap plus this reserve, and its real
# heap is held to the memory cap by semgrep's own `--max-memory`.
SEMGREP_ADDRESS_RESERVE_MB = 2560


_M = TypeVar("_M", bound=BaseModel)


class OutputError(Exception):
    """The scanner's output is not what it documents."""


@dataclass(frozen=True)
class ScanContext:
    src: Path  # the private copy of the source: the scanners' working directory
    work: Path  # this scanner's own scratch folder (never scanned)
    memory_mb: int
    semgrep_rules: Path
    platform_packages: frozenset[str]


@dataclass
class Prepared:
    """What to run. `args` None: nothing to run; the result is ok (`note` says why) unless
    `problems`."""

    args: list[str] | None
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    plan: requirements.AuditPlan | None = None


@dataclass
class Parsed:
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)


class Adapter:
    name: ClassVar[ScannerName]
    executable: ClassVar[str]
    online: ClassVar[bool] = False  # may reach the network (gets the host's proxy settings)
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})

    def address_space_mb(self, memory_mb: int) -> int:
        return memory_mb

    def env(self, ctx: ScanContext) -> dict[str, str]:
        return {}

    def prepare(self, ctx: ScanContext) -> Prepared:
        raise NotImplementedError

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        raise NotImplementedError

    def _report(self, model: type[_M], completed: Completed) -> _M:
        if completed.returncode not in self.ok_exit_codes:
            raise OutputError(f"exit status {completed.returncode}: {completed.stderr_tail()}")
        try:
            return model.model_validate_json(completed.stdout)
        except ValidationError as exc:
            detail = completed.stderr_tail() or f"{exc.error_count()} validation errors"
            raise OutputError(f"unreadable output ({detail})") from exc


# --- bandit ------------------------------------------------------------------------------------


class _BanditIssue(BaseModel):
    test_id: str
    issue_severity: str
    issue_confidence: str
    filename: str
    line_number: int | None = None
    issue_text: str


class _BanditError(BaseModel):
    filename: str
    reason: str


class _BanditReport(BaseModel):
    results: list[_BanditIssue]
    errors: list[_BanditError] = []


# Plugins whose text quotes the string they suspect: a password, a token.
_BANDIT_QUOTES_VALUES = frozenset({"B105", "B106", "B107"})


class Bandit(Adapter):
    name = "bandit"
    executable = "bandit"

    def prepare(self, ctx: ScanContext) -> Prepared:
        # An empty settings file of our own: bandit otherwise reads a `.bandit` from the target.
        ini = ctx.work / "bandit.ini"
        ini.write_text("[bandit]\n")
        return Prepared(args=["-r", ".", "-f", "json", "-q", "--ignore-nosec", "--ini", str(ini)])

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        report = self._report(_BanditReport, completed)
        findings = [
            Finding(
                scanner=self.name,
                rule_id=issue.test_id,
                severity=_bandit_severity(issue.issue_severity, issue.issue_confidence),
                path=_relative(issue.filename),
                line=issue.line_number,
                message=_short(
                    _unquote(issue.issue_text)
                    if issue.test_id in _BANDIT_QUOTES_VALUES
                    else issue.issue_text
                ),
            )
            for issue in report.results
        ]
        problems = [f"{_relative(e.filename)}: {_short(e.reason, 100)}" for e in report.errors]
        return Parsed(
            findings,
            [f"could not analyse {len(problems)} file(s): " + "; ".join(problems)]
            if problems
            else [],
        )


_BANDIT_SEVERITY: dict[str, Severity] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high"}


def _bandit_severity(severity: str, confidence: str) -> Severity:
    """Bandit's severity; but a guess bandit itself has low confidence in is only low."""
    if confidence.upper() == "LOW":
        return "low"
    return _BANDIT_SEVERITY.get(severity.upper(), "low")


# --- semgrep -----------------------------------------------------------------------------------


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
                path=_relative(result.path),
                line=result.start.line,
                message=_short(result.extra.message or result.check_id),
            )
            for result in report.results
        ]
        problems = [
            _short(
                f"{_relative(e.path) + ': ' if e.path else ''}{_error_type(e.type)} {e.message}",
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


# --- detect-secrets ----------------------------------------------------------------------------


class _Secret(BaseModel):
    # Only what is reported: the type and the place. `hashed_secret` is never read.
    type: str
    line_number: int | None = None


class _SecretsReport(BaseModel):
    results: dict[str, list[_Secret]]


# Detectors that guess from the shape of a string rather than recognise a credential format.
_SECRET_HEURISTICS = frozenset(
    {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
)


class DetectSecrets(Adapter):
    name = "detect-secrets"
    executable = "detect-secrets"
    ok_exit_codes = frozenset({0})

    def prepare(self, ctx: ScanContext) -> Prepared:
        return Prepared(
            args=[
                "scan",
                "--all-files",
                "--no-verify",  # never send a candidate secret anywhere to check it
                "--disable-filter",
                "detect_secrets.filters.allowlist.is_line_allowlisted",
                ".",
            ]
        )

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        report = self._report(_SecretsReport, completed)
        findings = []
        for filename, secrets in sorted(report.results.items()):
            by_line: dict[int | None, list[str]] = {}
            for secret in secrets:
                by_line.setdefault(secret.line_number, []).append(secret.type)
            for line, types in by_line.items():
                kinds = sorted(set(types), key=lambda t: (t in _SECRET_HEURISTICS, t))
                findings.append(
                    Finding(
                        scanner=self.name,
                        rule_id=_slug(kinds[0]),
                        severity="medium" if kinds[0] in _SECRET_HEURISTICS else "high",
                        path=_relative(filename),
                        line=line,
                        message=_short(f"possible secret ({', '.join(kinds)}); value not shown"),
                    )
                )
        return Parsed(findings)


# --- pip-audit ---------------------------------------------------------------------------------


class _Vulnerability(BaseModel):
    id: str
    fix_versions: list[str] = []
    aliases: list[str] = []


class _AuditedDependency(BaseModel):
    name: str
    version: str | None = None
    vulns: list[_Vulnerability] = []
    skip_reason: str | None = None


class _AuditReport(BaseModel):
    dependencies: list[_AuditedDependency]


class PipAudit(Adapter):
    """Known vulnerabilities of the agent's declared requirements (see `requirements`).

    Every requirement pinned (`==`): audited as pinned, `--no-deps --disable-pip` (no resolution,
    no pip, nothing of the agent's runs). Transitive dependencies are then audited when the file
    pins them too (a full lock, as `uv export` or `pip freeze` writes). Otherwise pip resolves
    the requirements with wheels only (PIP_ONLY_BINARY=:all:): no package's build script runs
    during the audit. A dependency pip-audit could not look up makes the result `failed`.
    """

    name = "pip-audit"
    executable = "pip-audit"
    online = True

    def env(self, ctx: ScanContext) -> dict[str, str]:
        return {
            "PIP_ONLY_BINARY": ":all:",
            "PIP_NO_INPUT": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def prepare(self, ctx: ScanContext) -> Prepared:
        plan = requirements.collect(ctx.src, ctx.platform_packages)
        prepared = Prepared(args=None, findings=plan.findings, problems=plan.problems, plan=plan)
        if not plan.requirements:
            read = " and ".join(plan.sources)
            prepared.note = (
                f"no third-party requirements in {read}"
                if read
                else "no requirements.txt or pyproject.toml"
            )
            return prepared
        listing = ctx.work / "requirements.txt"
        listing.write_text(plan.requirements_txt())
        args = ["-r", str(listing), "--format", "json", "--progress-spinner", "off"]
        args += ["--desc", "off", "--aliases", "on", "--cache-dir", str(ctx.work / "cache")]
        if plan.all_pinned:
            args += ["--no-deps", "--disable-pip"]
        prepared.args = args
        return prepared

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        report = self._report(_AuditReport, completed)
        plan = prepared.plan or requirements.AuditPlan()
        findings = list(prepared.findings)
        skipped = []
        for dependency in report.dependencies:
            if dependency.skip_reason:
                skipped.append(f"{dependency.name}: {_short(dependency.skip_reason, 120)}")
                continue
            declared = plan.declared(dependency.name)
            for vulnerability in dependency.vulns:
                findings.append(_vulnerability(dependency, vulnerability, declared, plan))
        problems = list(prepared.problems)
        if skipped:
            total = len(report.dependencies)
            problems.append(f"could not audit {len(skipped)} of {total}: " + "; ".join(skipped[:3]))
        return Parsed(findings, problems)


def _vulnerability(
    dependency: _AuditedDependency,
    vulnerability: _Vulnerability,
    declared: requirements.Declared | None,
    plan: requirements.AuditPlan,
) -> Finding:
    cves = [a for a in vulnerability.aliases if a.startswith("CVE-")][:2]
    fixed = ", ".join(vulnerability.fix_versions[:3]) or "no fixed release"
    how = "" if declared is not None else " (a dependency of a declared requirement)"
    message = (
        f"{dependency.name} {dependency.version}{how}: {vulnerability.id}"
        + (f" ({', '.join(cves)})" if cves else "")
        + f"; fixed in {fixed}"
    )
    return Finding(
        scanner="pip-audit",
        rule_id=vulnerability.id,
        severity="high",
        path=declared.path if declared else (plan.sources[0] if plan.sources else "."),
        line=declared.line if declared else None,
        message=_short(message),
    )


ADAPTERS: dict[ScannerName, Callable[[], Adapter]] = {
    "bandit": Bandit,
    "semgrep": Semgrep,
    "detect-secrets": DetectSecrets,
    "pip-audit": PipAudit,
}


# --- helpers -----------------------------------------------------------------------------------


def _relative(path: str) -> str:
    """A scanner's path (relative to the copy, where it ran) as a clean relative "/"-path."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    return "/".join(parts) or "."


def _short(text: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unquote(text: str) -> str:
    """The text without the quoted values in it."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "(value not shown)", text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
