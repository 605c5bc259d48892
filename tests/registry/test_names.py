"""Lookalike names: no owner registers or renames into a name another owner's agent holds."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import AgentCard
from agora_registry.records import AgentRecord, QueueEntry
from agora_registry.repository import AgentRepository
from tests.registry.conftest import Registry, another_registry, card, serve_registry, user

pytestmark = pytest.mark.integration

# Each lookalike, and the real name it imitates (the finding's list, plus case).
LOOKALIKES = [
    ("QuantFlow", "QuantFl\u03bfw"),  # Greek omicron
    ("QuantFlow", "Qu\u0430ntFl\u043ew"),  # Cyrillic a and o
    ("QuantFlow", "\uff31uantFlow"),  # fullwidth Q
    ("QuantFlow", "\U0001d410uantFlow"),  # mathematical bold Q
    ("QuantFlow", "QuantFlow"),  # the same name
    ("QuantFlow", "quantflow"),  # another case
    ("QuantFlow", "QuantFIow"),  # capital i for l
    ("Genesis", "Genes\u0456s"),  # Cyrillic i
    ("Genesis", "Genes\u0131s"),  # dotless i
    ("Genesis", "GENESIS"),
]


def _unique(name: str) -> str:
    """`name` with a suffix of its own, so cases in one module's project do not meet."""
    return f"{name} {secrets.token_hex(4)}"


def _queue_entry(record: AgentRecord, now: datetime) -> QueueEntry:
    return QueueEntry(record.id, record.owner_uid, now, record.digest)


def _register(registry: Registry, owner: Any, name: str) -> Any:
    return registry.call("POST", "/register", owner, json=card(name))


def _assert_taken(response: Any) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "AGENT_NAME_TAKEN"
    assert "details" not in error  # nothing of the other owner's agent


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES)
@pytest.mark.parametrize("status", ["pending-vetting", "active", "suspended"])
async def test_a_lookalike_of_another_owners_name_is_refused(
    registry: Registry, real: str, lookalike: str, status: str
) -> None:
    suffix = f" {secrets.token_hex(4)}"
    agent = await registry.register(user(), card(real + suffix))
    if status != "pending-vetting":
        await registry.activate(agent["id"])
    if status == "suspended":
        await registry.set_status(agent["id"], "suspended", service="executor")
    intruder = user()
    _assert_taken(await _register(registry, intruder, lookalike + suffix))
    assert await registry.stored_for(str(intruder.uid)) == []


async def test_the_name_is_stored_in_nfkc(registry: Registry) -> None:
    owner = user()
    suffix = secrets.token_hex(4)
    response = await _register(registry, owner, f"\uff31uant\U0001d405low {suffix}")
    assert response.status_code == 201, response.text
    assert response.json()["card"]["name"] == f"QuantFlow {suffix}"
    stored = await registry.repo.get(response.json()["id"])
    assert stored is not None and stored.card["name"] == f"QuantFlow {suffix}"
    manifest = await registry.call("GET", f"/{stored.id}/manifest", owner)
    assert manifest.json()["name"] == f"QuantFlow {suffix}"


async def test_one_owner_may_reuse_their_own_name(registry: Registry) -> None:
    owner, name = user(), _unique("Atlas")
    await registry.register(owner, card(name))
    again = await _register(registry, owner, name.upper())
    assert again.status_code == 201, again.text
    _assert_taken(await _register(registry, user(), name))  # still held against others


@pytest.mark.parametrize("how", ["deleted", "rejected", "suspended-then-deleted"])
async def test_a_freed_name_can_be_taken(registry: Registry, how: str) -> None:
    name = _unique("Orion")
    first_owner = user()
    agent = await registry.register(first_owner, card(name))
    lookalike = name.replace("O", "\u041e")  # Cyrillic O
    _assert_taken(await _register(registry, user(), lookalike))  # held until freed
    if how == "rejected":
        await registry.set_status(agent["id"], "rejected")
    else:
        if how == "suspended-then-deleted":
            await registry.activate(agent["id"])
            await registry.set_status(agent["id"], "suspended", service="executor")
        deleted = await registry.call("DELETE", f"/{agent['id']}", first_owner)
        assert deleted.status_code == 204, deleted.text
    taken = await _register(registry, user(), lookalike)
    assert taken.status_code == 201, taken.text


async def test_a_rejected_agent_cannot_be_resubmitted_under_a_name_taken_meanwhile(
    registry: Registry,
) -> None:
    name = _unique("Vega")
    first_owner = user()
    agent = await registry.register(first_owner, card(name))
    await registry.set_status(agent["id"], "rejected")
    await registry.register(user(), card(name))
    resubmit = await registry.call(
        "PATCH", f"/{agent['id']}", first_owner, json={"description": "Fixed"}
    )
    _assert_taken(resubmit)
    by_vetting = await registry.call(
        "POST",
        f"/internal/agents/{agent['id']}/status",
        None,
        service="vetting",
        json={"status": "pending-vetting", "reason": "test"},
    )
    _assert_taken(by_vetting)
    stored = await registry.repo.get(agent["id"])
    assert stored is not None and stored.status == "rejected"


async def test_renaming_into_a_lookalike_is_refused(registry: Registry) -> None:
    name = _unique("Lyra")
    await registry.activate((await registry.register(user(), card(name)))["id"])
    owner = user()
    agent = await registry.register(owner, card(_unique("Mine")))
    renamed = await registry.call(
        "PATCH", f"/{agent['id']}", owner, json={"name": name.replace("y", "\u0443")}
    )
    _assert_taken(renamed)
    stored = await registry.repo.get(agent["id"])
    assert stored is not None and stored.card["name"] == agent["card"]["name"]
    # The name it left is free for others once renamed away.
    free = await registry.call("PATCH", f"/{agent['id']}", owner, json={"name": _unique("Other")})
    assert free.status_code == 200, free.text
    assert (await _register(registry, user(), agent["card"]["name"])).status_code == 201


async def test_two_owners_racing_for_lookalikes_get_one_name(
    registry: Registry, dev_key: tuple[Path, Path], emulator_env: dict[str, str]
) -> None:
    suffix = secrets.token_hex(4)
    names = [f"QuantFlow {suffix}", f"QuantFl\u03bfw {suffix}"] * 3
    owners = [user() for _ in names]
    with another_registry(registry, dev_key, emulator_env) as second:
        responses = await asyncio.gather(
            *(
                _register(registry if i % 2 else second, owner, name)
                for i, (owner, name) in enumerate(zip(owners, names, strict=True))
            )
        )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [
        r.text for r in responses
    ]
    for response in responses:
        if response.status_code == 409:
            _assert_taken(response)


async def test_agents_stored_before_the_rule_hold_their_names(
    registry: Registry, dev_key: tuple[Path, Path], emulator_env: dict[str, str]
) -> None:
    # A project of its own: its first registration is the first name claim ever made there.
    project = f"demo-agora-names-{secrets.token_hex(4)}"
    with serve_registry(dev_key, project, emulator_env) as (url, settings):
        db = make_firestore_client(settings)
        try:
            repo = AgentRepository(db)
            # Stored as the registry stored agents before names were claimed: no claim.
            now = datetime.now(UTC)
            body = AgentCard.model_validate(card("Genesis"))
            old = AgentRecord.new("old-agent", "old-owner", body, now, None)
            await repo.create(old, _queue_entry(old, now))
            new = Registry(url, project, registry.key_file, registry.http, db, repo)
            _assert_taken(await _register(new, user(), "Genes\u0456s"))
            assert (await _register(new, user(), "Exodus")).status_code == 201
        finally:
            await close_firestore_client(db)
