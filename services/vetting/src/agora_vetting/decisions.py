"""The rules of admins' decisions: which status each is taken from and leads to, and how it is
refused otherwise."""

from __future__ import annotations

from agora_common.errors import BadGateway, Conflict
from agora_common.models import AgentStatus


class NotPending(Conflict):
    code, message = "NOT_PENDING_VETTING", "Only an agent pending vetting can be decided on"


class ScanNotClean(Conflict):
    code = "SCAN_NOT_CLEAN"
    message = "The latest scan of this card is not clean; approve with accept_findings to override"


class DeployFailed(BadGateway):
    code, message = "DEPLOY_FAILED", "Approved, but the deploy failed; the agent stays vetted"


# decision: (the status it is taken from, the status it leads to, why it is refused otherwise)
RULES: dict[str, tuple[AgentStatus, AgentStatus, str]] = {
    "rejected": (
        AgentStatus.PENDING_VETTING,
        AgentStatus.REJECTED,
        "Only an agent pending vetting can be rejected",
    ),
    "suspended": (
        AgentStatus.ACTIVE,
        AgentStatus.SUSPENDED,
        "Only an active agent can be suspended",
    ),
    "reinstated": (
        AgentStatus.SUSPENDED,
        AgentStatus.ACTIVE,
        "Only a suspended agent can be reinstated",
    ),
}
REFUSAL_CODES = {
    AgentStatus.PENDING_VETTING: "NOT_PENDING_VETTING",
    AgentStatus.ACTIVE: "NOT_ACTIVE",
    AgentStatus.SUSPENDED: "NOT_SUSPENDED",
}
