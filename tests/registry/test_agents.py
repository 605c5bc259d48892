"""Register, read, manifest, change and delete agents; status changes and their records."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import pytest

from agora_common.models import AgentCard, canonical_card_json
from tests.registry.conftest import Registry, card, user
from tests.support.calls import ANONYMOUS

pytestmark = pytest.mark.integration

SERVER_OWNED = ["owner_uid", "status", "hash_id", "created_at", "updated_at", "id"]


async def test_register_stores_a_pending_agent_owned_by_the_caller(registry: Registry) -> None:
    owner = user()
    response = await registry.call("POST", "/register", owner, json=card())
    assert response.status_code == 201, response.text
    agent = response.json()
    assert agent["status"] == "pending-vetting"
    assert agent["owner_uid"] == owner.uid
    assert agent["id"] == agent["hash_id"]
    assert len(agent["id"]) >= 22
    assert agent["created_at"] == agent["updated_at"]
    assert agent["card"] == json.loads(canonical_card_json(AgentCard.model_validate(card())))

    stored = await registry.repo.get(agent["id"])
    assert stored is not None
    assert (stored.owner_uid, stored.status) == (owner.uid, "pending-vetting")
    entry = await registry.repo.queue_entry(agent["id"])
    assert entry is not None
    assert entry["agent_id"] == agent["id"]
    assert entry["owner_uid"] == owner.uid
    assert entry["card_digest"] == stored.digest
    assert entry["submitted_at"] is not None


@pytest.mark.parametrize("field", SERVER_OWNED)
async def test_server_owned_fields_in_the_body_are_refused(registry: Registry, field: str) -> None:
    owner = user()
    value = "active" if field == "status" else "someone-else"
    response = await registry.call("POST", "/register", owner, json=card(**{field: value}))
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert {"path": f"$.body.{field}", "message": "Extra inputs are not permitted"} in details
    assert await registry.stored_for(owner.uid) == []


async def test_the_same_idempotency_key_and_body_give_the_same_agent(registry: Registry) -> None:
    owner = user()
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    first = await registry.call("POST", "/register", owner, json=card(), headers=key)
    again = await registry.call("POST", "/register", owner, json=card(), headers=key)
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await registry.stored_for(owner.uid)) == 1

    other_body = await registry.call("POST", "/register", owner, json=card("Other"), headers=key)
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await registry.stored_for(owner.uid)) == 1

    # Keys belong to their user: another user's same key is a new registration (of a name of
    # their own: owners may not share one).
    someone = user()
    theirs = await registry.call("POST", "/register", someone, json=card("Theirs"), headers=key)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_concurrent_requests_with_one_key_store_one_agent(registry: Registry) -> None:
    owner = user()
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    responses = await asyncio.gather(
        *(registry.call("POST", "/register", owner, json=card(), headers=key) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await registry.stored_for(owner.uid)) == 1


async def test_a_deleted_agent_frees_its_idempotency_key(registry: Registry) -> None:
    owner = user()
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    first = await registry.call("POST", "/register", owner, json=card(), headers=key)
    agent_id = first.json()["id"]
    assert (await registry.call("DELETE", f"/{agent_id}", owner)).status_code == 204
    again = await registry.call("POST", "/register", owner, json=card(), headers=key)
    assert again.status_code == 201
    assert again.json()["id"] != agent_id


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "naïve"])
async def test_a_malformed_idempotency_key_is_refused(registry: Registry, key: str) -> None:
    owner = user()
    raw = {"Idempotency-Key": key.encode()}  # bytes: httpx sends str headers as ASCII only
    response = await registry.call("POST", "/register", owner, json=card(), headers=raw)
    assert response.status_code == 422, response.text
    assert await registry.stored_for(owner.uid) == []


async def test_owner_fields_are_shown_to_the_owner_and_admins_only(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.activate(agent_id)
    for viewer in (owner, user(admin=True)):
        seen = (await registry.call("GET", f"/{agent_id}", viewer)).json()
        assert seen["owner_uid"] == owner.uid
        assert seen["status_reason"] == "test: active"
    for viewer in (ANONYMOUS, user()):
        seen = (await registry.call("GET", f"/{agent_id}", viewer)).json()
        assert "owner_uid" not in seen
        assert "status_reason" not in seen
        assert seen["status"] == "active"


async def test_malformed_agent_ids_are_not_found(registry: Registry) -> None:
    for agent_id in ["__reserved__", "a" * 65, "dots.in.id"]:
        response = await registry.call("GET", f"/{agent_id}", user(admin=True))
        assert response.status_code == 404, agent_id
        assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"


async def test_manifest_has_a_strong_etag_and_honours_if_none_match(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]

    pending = await registry.call("GET", f"/{agent_id}/manifest", owner)
    assert pending.status_code == 200
    assert pending.headers["cache-control"] == "private, no-store"
    etag = pending.headers["etag"]
    assert etag == f'"{hashlib.sha256(pending.content).hexdigest()}"'
    assert pending.json() == json.loads(canonical_card_json(AgentCard.model_validate(card())))

    await registry.activate(agent_id)
    active = await registry.call("GET", f"/{agent_id}/manifest", ANONYMOUS)
    assert active.headers["cache-control"] == "public, max-age=60"
    assert active.headers["etag"] == etag  # the card did not change

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = await registry.call(
            "GET", f"/{agent_id}/manifest", ANONYMOUS, headers={"If-None-Match": header}
        )
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["etag"] == etag
    stale = await registry.call(
        "GET", f"/{agent_id}/manifest", ANONYMOUS, headers={"If-None-Match": '"stale"'}
    )
    assert stale.status_code == 200

    await registry.call("PATCH", f"/{agent_id}", owner, json={"description": "New words"})
    changed = await registry.call(
        "GET", f"/{agent_id}/manifest", ANONYMOUS, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["description"] == "New words"


async def test_patch_changes_card_fields_only(registry: Registry) -> None:
    owner = user()
    agent = await registry.register(owner)
    agent_id = agent["id"]
    await registry.activate(agent_id)

    for field, value in [
        ("status", "active"),
        ("owner_uid", "thief"),
        ("hash_id", "x"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("id", "x"),
    ]:
        refused = await registry.call("PATCH", f"/{agent_id}", owner, json={field: value})
        assert refused.status_code == 422, field
        assert refused.json()["error"]["details"][0]["path"] == f"$.body.{field}"
    assert (await registry.call("PATCH", f"/{agent_id}", owner, json={})).status_code == 422

    described = await registry.call(
        "PATCH", f"/{agent_id}", owner, json={"description": "Better words", "tags": ["finance"]}
    )
    assert described.status_code == 200, described.text
    body = described.json()
    assert body["status"] == "active"  # no re-vetting for words and tags
    assert body["card"]["description"] == "Better words"
    assert body["card"]["tags"] == ["finance"]
    assert body["card"]["tools"] == agent["card"]["tools"]
    assert body["owner_uid"] == owner.uid
    assert body["created_at"] == agent["created_at"]
    assert body["updated_at"] > agent["updated_at"]

    # The merged card is validated as a whole; a bad change stores nothing.
    bad = await registry.call("PATCH", f"/{agent_id}", owner, json={"tools": []})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["path"] == "$.body.tools"
    dropped = await registry.call("PATCH", f"/{agent_id}", owner, json={"name": None})
    assert dropped.status_code == 422
    assert dropped.json()["error"]["details"][0]["path"] == "$.body.name"
    stored = await registry.repo.get(agent_id)
    assert stored is not None
    assert stored.card["description"] == "Better words"


async def test_a_tools_change_sends_an_active_agent_back_to_vetting(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.activate(agent_id)
    assert await registry.repo.queue_entry(agent_id) is None  # left the queue when vetted

    new_tools = card()["tools"] + [
        {"name": "greeks", "description": "Option greeks", "input_schema": {"type": "object"}}
    ]
    response = await registry.call("PATCH", f"/{agent_id}", owner, json={"tools": new_tools})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending-vetting"

    stored = await registry.repo.get(agent_id)
    assert stored is not None
    entry = await registry.repo.queue_entry(agent_id)
    assert entry is not None
    assert entry["card_digest"] == stored.digest
    events = await registry.repo.status_events(agent_id)
    assert [(e["from"], e["to"], e["by_service"]) for e in events] == [
        ("pending-vetting", "vetted", "vetting"),
        ("vetted", "active", "vetting"),
        ("active", "pending-vetting", "registry"),
    ]
    assert events[-1]["actor_uid"] == owner.uid
    # Out of public view until vetted again.
    assert (await registry.call("GET", f"/{agent_id}", ANONYMOUS)).status_code == 404


async def test_a_deployment_change_of_a_suspended_agent_is_refused(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.activate(agent_id)
    await registry.set_status(agent_id, "suspended", service="executor")
    response = await registry.call(
        "PATCH", f"/{agent_id}", owner, json={"deployment": {"url": "https://elsewhere.example"}}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "AGENT_SUSPENDED"


async def test_changing_a_rejected_agent_resubmits_it(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.set_status(agent_id, "rejected")
    assert await registry.repo.queue_entry(agent_id) is None
    response = await registry.call("PATCH", f"/{agent_id}", owner, json={"description": "Fixed"})
    assert response.status_code == 200
    assert response.json()["status"] == "pending-vetting"
    assert await registry.repo.queue_entry(agent_id) is not None


async def test_delete_removes_the_agent_and_its_queue_entry(registry: Registry) -> None:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    assert await registry.repo.queue_entry(agent_id) is not None
    response = await registry.call("DELETE", f"/{agent_id}", owner)
    assert response.status_code == 204
    assert response.content == b""
    assert await registry.repo.get(agent_id) is None
    assert await registry.repo.queue_entry(agent_id) is None
    assert (await registry.call("GET", f"/{agent_id}", owner)).status_code == 404
    assert (await registry.call("DELETE", f"/{agent_id}", owner)).status_code == 404


async def test_a_metadata_change_sends_an_active_agent_back_to_vetting(registry: Registry) -> None:
    """Metadata says which of the caller's keys the agent receives: vetting must see a change."""
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.activate(agent_id)
    change = {"metadata": {"provider_keys": ["openai"]}}
    response = await registry.call("PATCH", f"/{agent_id}", owner, json=change)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending-vetting"
