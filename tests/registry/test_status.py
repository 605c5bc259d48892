"""Status changes on the internal route: the machine, its records, its refusals."""

from __future__ import annotations

import pytest

from tests.registry.conftest import Registry, user

pytestmark = pytest.mark.integration


async def test_status_changes_are_recorded_with_who_when_and_why(registry: Registry) -> None:
    agent_id = (await registry.register(user()))["id"]
    response = await registry.call(
        "POST",
        f"/internal/agents/{agent_id}/status",
        None,
        service="vetting",
        json={"status": "vetted", "reason": "scan passed", "actor_uid": "admin-7"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "vetted"
    assert response.json()["status_reason"] == "scan passed"
    [event] = await registry.repo.status_events(agent_id)
    assert event["from"] == "pending-vetting"
    assert event["to"] == "vetted"
    assert event["by_service"] == "vetting"
    assert event["actor_uid"] == "admin-7"
    assert event["reason"] == "scan passed"
    assert event["at"] is not None
    assert await registry.repo.queue_entry(agent_id) is None


async def test_an_invalid_transition_is_409_and_changes_nothing(registry: Registry) -> None:
    agent_id = (await registry.register(user()))["id"]
    for status in ("active", "suspended", "pending-vetting"):
        response = await registry.call(
            "POST",
            f"/internal/agents/{agent_id}/status",
            None,
            service="executor",
            json={"status": status, "reason": "try"},
        )
        assert response.status_code == 409, status
        error = response.json()["error"]
        assert error["code"] == "INVALID_TRANSITION"
        assert error["details"] == [{"from": "pending-vetting", "to": status}]
    assert await registry.repo.status_events(agent_id) == []
    stored = await registry.repo.get(agent_id)
    assert stored is not None
    assert stored.status == "pending-vetting"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "bogus", "reason": "x"},
        {"status": "vetted"},
        {"status": "vetted", "reason": ""},
        {"status": "vetted", "reason": "x", "owner_uid": "someone"},
    ],
)
async def test_a_malformed_status_change_is_422(registry: Registry, body: dict[str, str]) -> None:
    agent_id = (await registry.register(user()))["id"]
    response = await registry.call(
        "POST", f"/internal/agents/{agent_id}/status", None, service="vetting", json=body
    )
    assert response.status_code == 422, response.text


async def test_a_status_change_of_an_unknown_agent_is_404(registry: Registry) -> None:
    response = await registry.call(
        "POST",
        "/internal/agents/NoSuchAgentId0000000000/status",
        None,
        service="vetting",
        json={"status": "vetted", "reason": "x"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"
