"""pip-audit: known vulnerabilities of the agent's declared requirements."""

from __future__ import annotations

from pydantic import BaseModel

from agora_vetting.scanners import requirements
from agora_vetting.scanners.adapters.base import Adapter, Parsed, Prepared, ScanContext, short
from agora_vetting.scanners.models import Finding
from agora_vetting.scanners.sandbox import Completed


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
                skipped.append(f"{dependency.name}: {short(dependency.skip_reason, 120)}")
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
        message=short(message),
    )
