"""The executor's deploy as vetting asks for it, and its post-deploy probe as vetting records it.

The outcome is kept on the decision: deployed (url, runtime) or failed (the executor's error code,
and a failed probe's findings like a scan's).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agora_common.errors import BadGateway
from agora_common.iam.client import ServiceClient

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


async def request_deploy(
    services: ServiceClient, agent_id: str, timeout_s: float
) -> dict[str, Any]:
    """Ask the executor to deploy the agent; the outcome as the decision keeps it."""
    at = datetime.now(UTC)
    try:
        response = await services.request(
            "executor",
            "POST",
            "/deploy",
            json={"agent_id": agent_id},
            timeout=timeout_s,
        )
    except Exception as exc:
        return {"status": "failed", "error": type(exc).__name__, "at": at}
    if response.status_code != 200:
        try:
            error = response.json()["error"]
            code = error["code"]
        except (ValueError, KeyError, TypeError):
            return {"status": "failed", "error": f"HTTP_{response.status_code}", "at": at}
        failed: dict[str, Any] = {"status": "failed", "error": code, "at": at}
        if code == PROBE_FAILED:
            # The post-deploy probe's findings, kept on the decision like a scan's.
            failed["findings"] = probe_findings(error.get("details"))
        return failed
    body = response.json()
    return {
        "status": "deployed",
        "url": body.get("url"),
        "runtime": body.get("runtime"),
        "at": at,
    }
