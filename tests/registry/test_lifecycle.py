"""The status state machine, on its own (no I/O)."""

from __future__ import annotations

import itertools

import pytest

from agora_common.models import AgentStatus
from agora_registry import lifecycle
from agora_registry.lifecycle import AgentSuspended, InvalidTransition

P, V, A, S, R = (
    AgentStatus.PENDING_VETTING,
    AgentStatus.VETTED,
    AgentStatus.ACTIVE,
    AgentStatus.SUSPENDED,
    AgentStatus.REJECTED,
)
ALLOWED = {(P, V), (P, R), (V, A), (A, S), (S, A), (R, P), (V, P), (A, P)}
FORBIDDEN = sorted(set(itertools.product(AgentStatus, repeat=2)) - ALLOWED)


def test_the_machine_is_exactly_the_designed_one() -> None:
    edges = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert edges == ALLOWED
    assert set(lifecycle.TRANSITIONS) == set(AgentStatus)
    assert lifecycle.INITIAL is P


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED), ids=lambda s: str(s))
def test_allowed_transitions(current: AgentStatus, target: AgentStatus) -> None:
    assert lifecycle.can_transition(current, target)
    assert lifecycle.check_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), FORBIDDEN, ids=lambda s: str(s))
def test_every_other_transition_is_refused(current: AgentStatus, target: AgentStatus) -> None:
    assert not lifecycle.can_transition(current, target)
    with pytest.raises(InvalidTransition) as raised:
        lifecycle.check_transition(current, target)
    assert raised.value.status_code == 409
    assert raised.value.code == "INVALID_TRANSITION"
    assert raised.value.details == [{"from": current.value, "to": target.value}]


def test_a_sample_of_forbidden_transitions_is_in_the_table() -> None:
    for edge in [(P, A), (R, A), (R, V), (S, P), (S, V), (V, R), (A, A), (P, P)]:
        assert edge in FORBIDDEN


@pytest.mark.parametrize(
    ("current", "revet", "expected"),
    [
        (P, False, P),
        (P, True, P),
        (V, False, V),
        (V, True, P),
        (A, False, A),
        (A, True, P),
        (S, False, S),
        (R, False, P),  # any change to a rejected agent is a resubmission
        (R, True, P),
    ],
)
def test_status_after_an_owner_changes_the_card(
    current: AgentStatus, revet: bool, expected: AgentStatus
) -> None:
    assert lifecycle.after_card_change(current, revet=revet) is expected


def test_a_suspended_agent_cannot_change_tools_or_deployment() -> None:
    with pytest.raises(AgentSuspended) as raised:
        lifecycle.after_card_change(S, revet=True)
    assert (raised.value.status_code, raised.value.code) == (409, "AGENT_SUSPENDED")
