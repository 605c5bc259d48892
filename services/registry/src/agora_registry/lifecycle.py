"""The one state machine of an agent's status (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agora_common.errors import Conflict
from agora_common.models import AgentStatus

PENDING = AgentStatus.PENDING_VETTING
VETTED = AgentStatus.VETTED
ACTIVE = AgentStatus.ACTIVE
SUSPENDED = AgentStatus.SUSPENDED
REJECTED = AgentStatus.REJECTED

INITIAL = PENDING

# pending-vetting -> vetted -> active <-> suspended; pending-vetting -> rejected;
# rejected -> pending-vetting (resubmission); vetted/active -> pending-vetting (re-vetting after
# the owner changed tools or deployment).
TRANSITIONS: Mapping[AgentStatus, frozenset[AgentStatus]] = {
    PENDING: frozenset({VETTED, REJECTED}),
    VETTED: frozenset({ACTIVE, PENDING}),
    ACTIVE: frozenset({SUSPENDED, PENDING}),
    SUSPENDED: frozenset({ACTIVE}),
    REJECTED: frozenset({PENDING}),
}


# The statuses in which an agent holds its name against other owners. A rejected agent frees it
# (and must win it again to be resubmitted); a deleted one has no status. A suspended agent keeps
# its name: suspension is a pause, and its name must not pass to a lookalike meanwhile.
HOLDS_NAME: frozenset[AgentStatus] = frozenset({PENDING, VETTED, ACTIVE, SUSPENDED})


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"
    message = "This status change is not allowed"


class AgentSuspended(Conflict):
    code = "AGENT_SUSPENDED"
    message = "A suspended agent's tools and deployment cannot change"


def can_transition(current: AgentStatus, target: AgentStatus) -> bool:
    """Whether `current -> target` is an edge of the machine (staying put is not)."""
    return target in TRANSITIONS[current]


def holds_name(status: AgentStatus) -> bool:
    """Whether an agent in this status keeps other owners from lookalike names."""
    return status in HOLDS_NAME


def check_transition(current: AgentStatus, target: AgentStatus) -> AgentStatus:
    """`target` when the change is allowed; InvalidTransition (409) otherwise."""
    if not can_transition(current, target):
        raise InvalidTransition(
            f"An agent cannot go from {current.value} to {target.value}",
            details=[{"from": current.value, "to": target.value}],
        )
    return target


# What vetting checked: the tools, where the agent runs, and what the platform reads from
# metadata (provider keys it receives, its source, its timeout). A change to any of these sends a
# vetted or active agent back to vetting.
REVETTED_FIELDS = ("tools", "deployment", "metadata", "protocol")


def revets(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether a card change touches what vetting checked."""
    return any(before.get(k) != after.get(k) for k in REVETTED_FIELDS)


def card_change_reason(*, revet: bool) -> str:
    """The status reason recorded when an owner's card change moves the agent."""
    return (
        "tools, deployment, metadata or protocol changed" if revet else "resubmitted by the owner"
    )


def after_card_change(current: AgentStatus, *, revet: bool) -> AgentStatus:
    """The status after the owner changed the card; `revet` when what vetting checked changed.

    Any change to a rejected agent is a resubmission. A tools or deployment change sends a vetted
    or active agent back to vetting; a suspended agent must be reinstated first, or the change
    would be a way around the suspension.
    """
    if current is REJECTED:
        return check_transition(current, PENDING)
    if not revet or current is PENDING:
        return current
    if current is SUSPENDED:
        raise AgentSuspended()
    return check_transition(current, PENDING)
