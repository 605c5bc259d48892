"""The short read cache of public agent reads, across two real registry instances.

`registry` (this module's served instance) and `other` share one Firestore project, the way two
Cloud Run instances of the registry do. Public reads may lag another instance's writes by the
cache's TTL; an instance's own writes, and every write, always see Firestore.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agora_common.models import UserIdentity
from agora_registry.settings import RegistrySettings
from tests.registry.conftest import Registry, another_registry, serve_registry, user

pytestmark = pytest.mark.integration

TTL_S = 2.0  # this module's registry; long enough that a write elsewhere lands well within it


@pytest.fixture(scope="module")
def served(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> Iterator[tuple[str, RegistrySettings]]:
    """This module's registry: the shared fixture's, with a known read-cache TTL."""
    with serve_registry(dev_key, project, emulator_env, read_cache_ttl_s=TTL_S) as served:
        yield served


@pytest.fixture
def other(
    registry: Registry, dev_key: tuple[Path, Path], emulator_env: dict[str, str]
) -> Iterator[Registry]:
    """A second instance on the same project (its cache on, as deployed)."""
    with another_registry(registry, dev_key, emulator_env, read_cache_ttl_s=1.0) as instance:
        yield instance


async def _description(instance: Registry, agent_id: str) -> str:
    response = await instance.call("GET", f"/{agent_id}", user())
    assert response.status_code == 200, response.text
    description: str = response.json()["card"]["description"]
    return description


async def _active_agent(registry: Registry) -> tuple[str, UserIdentity]:
    owner = user()
    agent_id = (await registry.register(owner))["id"]
    await registry.activate(agent_id)
    return agent_id, owner


async def test_another_instance_s_write_is_seen_within_the_ttl(
    registry: Registry, other: Registry
) -> None:
    agent_id, owner = await _active_agent(registry)
    cached_at = time.monotonic()
    before = await _description(registry, agent_id)  # now cached here
    changed = await other.call("PATCH", f"/{agent_id}", owner, json={"description": "Changed"})
    assert changed.status_code == 200, changed.text
    written = time.monotonic()
    seen = await _description(registry, agent_id)
    if time.monotonic() - cached_at < TTL_S / 2:  # well within the TTL (unless CI was slow)
        assert seen == before  # answered from this instance's cache
    while await _description(registry, agent_id) != "Changed":
        assert time.monotonic() - written < TTL_S + 1.0, "the change never showed"
        await asyncio.sleep(0.1)


async def test_an_instance_sees_its_own_writes_at_once(registry: Registry) -> None:
    agent_id, owner = await _active_agent(registry)
    await _description(registry, agent_id)  # cached
    changed = await registry.call("PATCH", f"/{agent_id}", owner, json={"description": "Mine"})
    assert changed.status_code == 200, changed.text
    assert await _description(registry, agent_id) == "Mine"
    manifest = await registry.call("GET", f"/{agent_id}/manifest", user())
    assert manifest.json()["description"] == "Mine"

    await registry.set_status(agent_id, "suspended", service="executor")
    hidden = await registry.call("GET", f"/{agent_id}", user())
    assert hidden.status_code == 404  # suspended: no longer shown to other users

    deleted = await registry.call("DELETE", f"/{agent_id}", owner)
    assert deleted.status_code == 204
    assert (await registry.call("GET", f"/{agent_id}", owner)).status_code == 404


async def test_writes_never_start_from_a_cached_copy(registry: Registry, other: Registry) -> None:
    """A stale copy as the base of a write would be refused (409) or overwrite another's change."""
    agent_id, owner = await _active_agent(registry)
    await _description(registry, agent_id)  # cached here
    first = await other.call("PATCH", f"/{agent_id}", owner, json={"description": "First"})
    assert first.status_code == 200, first.text
    second = await registry.call("PATCH", f"/{agent_id}", owner, json={"tags": ["later"]})
    assert second.status_code == 200, second.text
    # Built on the stored card, not on the copy cached here.
    assert second.json()["card"]["description"] == "First"
    stored = await registry.repo.get(agent_id)
    assert stored is not None
    assert stored.card["description"] == "First"
    assert stored.card["tags"] == ["later"]


async def test_services_read_firestore_not_the_cache(registry: Registry, other: Registry) -> None:
    agent_id, owner = await _active_agent(registry)
    await _description(registry, agent_id)
    await other.call("PATCH", f"/{agent_id}", owner, json={"description": "Fresh"})
    response = await registry.call("GET", f"/internal/agents/{agent_id}", None, service="executor")
    assert response.status_code == 200, response.text
    assert response.json()["card"]["description"] == "Fresh"


async def test_a_ttl_of_zero_turns_the_cache_off(
    registry: Registry, dev_key: tuple[Path, Path], emulator_env: dict[str, str]
) -> None:
    agent_id, owner = await _active_agent(registry)
    with another_registry(registry, dev_key, emulator_env, read_cache_ttl_s=0.0) as uncached:
        assert await _description(uncached, agent_id) == (await _description(registry, agent_id))
        await registry.call("PATCH", f"/{agent_id}", owner, json={"description": "Now"})
        assert await _description(uncached, agent_id) == "Now"
