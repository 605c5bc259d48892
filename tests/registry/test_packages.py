"""Registration for the tool service: only it may name a submitted package as a card's source."""

from __future__ import annotations

import pytest

from tests.registry.conftest import Registry, card, user

pytestmark = pytest.mark.integration

PACKAGE = "gs://agora-sources/packages/sha256-" + "ab" * 32 + ".tar.gz"


def packaged_card() -> dict[str, object]:
    return card(metadata={"source": PACKAGE})


async def test_only_the_tool_service_registers_a_package_for_a_user(registry: Registry) -> None:
    owner = user()
    body = {"owner_uid": owner.uid, "card": packaged_card()}
    created = await registry.call(
        "POST",
        "/internal/agents",
        None,
        service="tool",
        json=body,
        headers={"Idempotency-Key": "k1"},
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    assert agent["owner_uid"] == owner.uid
    assert agent["status"] == "pending-vetting"
    assert agent["card"]["metadata"]["source"] == PACKAGE
    again = await registry.call(
        "POST",
        "/internal/agents",
        None,
        service="tool",
        json=body,
        headers={"Idempotency-Key": "k1"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == agent["id"]
    for service in ("gateway", "vetting", "executor"):
        refused = await registry.call("POST", "/internal/agents", None, service=service, json=body)
        assert refused.status_code == 403, service
    forged = await registry.call(
        "POST", "/internal/agents", None, service="tool", json={**body, "status": "active"}
    )
    assert forged.status_code == 422  # server-owned fields are refused


async def test_owners_cannot_name_a_package_source_themselves(registry: Registry) -> None:
    owner = user()
    refused = await registry.call("POST", "/register", owner, json=packaged_card())
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["path"] == "$.body.metadata.source"
    agent = await registry.register(owner)
    patched = await registry.call(
        "PATCH", f"/{agent['id']}", owner, json={"metadata": {"source": PACKAGE}}
    )
    assert patched.status_code == 422


async def test_an_owner_may_keep_the_package_their_agent_has(registry: Registry) -> None:
    owner = user()
    body = {"owner_uid": owner.uid, "card": packaged_card()}
    created = await registry.call("POST", "/internal/agents", None, service="tool", json=body)
    assert created.status_code == 201, created.text
    patched = await registry.call(
        "PATCH", f"/{created.json()['id']}", owner, json={"description": "Better words"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["card"]["metadata"]["source"] == PACKAGE
