"""bandit: Python security lints, `# nosec` not honoured."""

from __future__ import annotations

from pydantic import BaseModel

from agora_vetting.scanners.adapters.base import (
    Adapter,
    Parsed,
    Prepared,
    ScanContext,
    relative,
    short,
    unquote,
)
from agora_vetting.scanners.models import Finding, Severity
from agora_vetting.scanners.sandbox import Completed


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
                path=relative(issue.filename),
                line=issue.line_number,
                message=short(
                    unquote(issue.issue_text)
                    if issue.test_id in _BANDIT_QUOTES_VALUES
                    else issue.issue_text
                ),
            )
            for issue in report.results
        ]
        problems = [f"{relative(e.filename)}: {short(e.reason, 100)}" for e in report.errors]
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
