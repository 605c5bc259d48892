"""The executor's post-deploy probe, as vetting records it: findings on the decision."""

from __future__ import annotations

from typing import Any

from agora_common.errors import BadGateway

# The executor's code for a revision that failed its probe; its findings are in `details`.
PROBE_FAILED = "DEPLOY_PROBE_FAILED"


class DeployProbeFailed(BadGateway):
    code = PROBE_FAILED
    message = (
        "Approved, but the deployed revision does not serve what its card declares;"
        " the agent stays vetted"
    )


def probe_findings(details: Any) -> list[dict[str, Any]]:
    """The executor's probe details as scan findings (`check: deploy_probe`, severity high)."""
    findings: list[dict[str, Any]] = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        finding: dict[str, Any] = {
            "check": "deploy_probe",
            "probe": str(detail.get("check", "")),
            "message": str(detail.get("message", "")),
            "severity": "high",
        }
        if isinstance(detail.get("missing"), list):
            finding["missing"] = [str(name) for name in detail["missing"]]
        findings.append(finding)
    return findings or [{"check": "deploy_probe", "message": "failed", "severity": "high"}]
