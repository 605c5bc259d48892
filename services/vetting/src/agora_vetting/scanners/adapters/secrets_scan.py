"""detect-secrets: credentials in the source, reported by type and place, never by value."""

from __future__ import annotations

from pydantic import BaseModel

from agora_vetting.scanners.adapters.base import (
    Adapter,
    Parsed,
    Prepared,
    ScanContext,
    relative,
    short,
    slug,
)
from agora_vetting.scanners.models import Finding
from agora_vetting.scanners.sandbox import Completed


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
                        rule_id=slug(kinds[0]),
                        severity="medium" if kinds[0] in _SECRET_HEURISTICS else "high",
                        path=relative(filename),
                        line=line,
                        message=short(f"possible secret ({', '.join(kinds)}); value not shown"),
                    )
                )
        return Parsed(findings)
