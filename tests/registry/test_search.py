"""Search: visibility, filters, keyset pages with cursors, the Redis cache and its absence."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.answer_cache import key_prefix
from agora_common.models import UserIdentity
from tests.registry.conftest import Registry, another_registry, card, user
from tests.support.calls import ANONYMOUS
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def _unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def _tool(name: str) -> dict[str, Any]:
    return {"name": name, "description": "A tool", "input_schema": {"type": "object"}}


async def _active(registry: Registry, owner: UserIdentity, name: str, **overrides: Any) -> str:
    agent_id = str((await registry.register(owner, card(name, **overrides)))["id"])
    await registry.activate(agent_id)
    return agent_id


async def _search(
    registry: Registry, as_user: UserIdentity | None = ANONYMOUS, **params: Any
) -> dict[str, Any]:
    response = await registry.call("GET", "/search", as_user, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


async def test_only_active_agents_are_public_and_owners_see_their_own(registry: Registry) -> None:
    tag = _unique("vis-")
    owner, admin = user(), user(admin=True)
    pending = (await registry.register(owner, card("Hidden", tags=[tag])))["id"]
    active = await _active(registry, owner, "Shown", tags=[tag])

    public = await _search(registry, ANONYMOUS, tag=tag)
    assert _ids(public) == [active]
    assert "owner_uid" not in public["items"][0]
    assert _ids(await _search(registry, user(), tag=tag)) == [active]

    own = await _search(registry, owner, tag=tag, owner="me")
    assert sorted(_ids(own)) == sorted([pending, active])
    assert {item["owner_uid"] for item in own["items"]} == {owner.uid}
    assert _ids(await _search(registry, owner, tag=tag, owner="me", status="pending-vetting")) == [
        pending
    ]
    # The same owner=me search by someone else is answered for them, not from the owner's cache.
    assert _ids(await _search(registry, user(), tag=tag, owner="me")) == []

    assert _ids(await _search(registry, admin, tag=tag, status="pending-vetting")) == [pending]
    refused = await registry.call(
        "GET", "/search", owner, params={"tag": tag, "status": "pending-vetting"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "STATUS_FILTER_NOT_ALLOWED"


async def test_search_by_name_prefix_ignores_case(registry: Registry) -> None:
    stem = _unique("Zq")
    owner = user()
    alpha = await _active(registry, owner, f"{stem}Alpha")
    beta = await _active(registry, owner, f"{stem} beta")
    accented = await _active(registry, owner, f"Ærø{stem}")
    await _active(registry, owner, f"Other{stem}")

    assert _ids(await _search(registry, q=stem.upper())) == [beta, alpha]  # " " sorts before "a"
    assert _ids(await _search(registry, q=f"{stem.lower()}AL")) == [alpha]
    assert _ids(await _search(registry, q=f"ærø{stem.lower()}")) == [accented]
    assert _ids(await _search(registry, q=_unique("nothing-"))) == []


async def test_search_by_tool_and_by_tag(registry: Registry) -> None:
    tool, tag = _unique("tool_"), _unique("tag-")
    owner = user()
    both = await _active(registry, owner, "Both", tools=[_tool(tool)], tags=[tag])
    tool_only = await _active(registry, owner, "ToolOnly", tools=[_tool(tool)])
    tag_only = await _active(registry, owner, "TagOnly", tags=[tag])
    pending = (await registry.register(owner, card("Pending", tools=[_tool(tool)])))["id"]

    assert _ids(await _search(registry, tool=tool)) == [both, tool_only]
    assert _ids(await _search(registry, tag=tag)) == [both, tag_only]
    assert _ids(await _search(registry, tool=tool, tag=tag)) == [both]
    assert pending not in _ids(await _search(registry, owner, tool=tool))


async def _all_pages(registry: Registry, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await _search(registry, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(_ids(page))
        cursor = page.get("next_cursor")
        if cursor is None:
            return pages
        assert len(pages) < 20, "pagination does not end"


async def test_pages_follow_each_other_without_gaps_or_duplicates(registry: Registry) -> None:
    tag = _unique("page-")
    owner = user()
    names = ["Delta", "alpha", "Alpha", "beta", "Beta", "gamma", "alpha"]  # ties on purpose
    ids = {await _active(registry, owner, name, tags=[tag]): name for name in names}
    expected = sorted(ids, key=lambda agent_id: (ids[agent_id].casefold(), agent_id))

    pages = await _all_pages(registry, tag=tag, limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [agent_id for page in pages for agent_id in page] == expected
    # Again (now from the cache), and through the tool+tag path that filters the tag itself.
    assert await _all_pages(registry, tag=tag, limit=3) == pages
    flat = await _all_pages(registry, tag=tag, tool="black_scholes", limit=3)
    assert [agent_id for page in flat for agent_id in page] == expected
    assert [
        agent_id for page in await _all_pages(registry, tag=tag) for agent_id in page
    ] == expected


async def test_a_tampered_or_foreign_cursor_is_400(registry: Registry) -> None:
    tag = _unique("cur-")
    owner = user()
    for name in ("One", "Two", "Three"):
        await _active(registry, owner, name, tags=[tag])
    cursor = (await _search(registry, tag=tag, limit=1))["next_cursor"]
    assert cursor
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({"k": "zzz", "c": raw["c"]}).encode()).decode()
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    for bad in (flipped, cursor[:-3], "!!!not-base64!!!", forged, "e30", cursor + "x"):
        response = await registry.call(
            "GET", "/search", ANONYMOUS, params={"tag": tag, "limit": 1, "cursor": bad}
        )
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "INVALID_CURSOR"
    # A cursor belongs to its search.
    other = await registry.call(
        "GET", "/search", ANONYMOUS, params={"tag": _unique("x-"), "limit": 1, "cursor": cursor}
    )
    assert other.status_code == 400


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"owner": "someone"}, {"status": "bogus"}, {"q": "x" * 65}],
)
async def test_bad_search_parameters_are_422(registry: Registry, params: dict[str, Any]) -> None:
    response = await registry.call("GET", "/search", ANONYMOUS, params=params)
    assert response.status_code == 422, response.text


async def _cache_keys(redis: aioredis.Redis) -> set[bytes]:
    return {key async for key in redis.scan_iter(match=f"{key_prefix('registry_search')}*")}


async def test_searches_are_cached_and_every_write_invalidates_them(
    registry: Registry, emulator_env: dict[str, str]
) -> None:
    tag = _unique("cache-")
    owner = user()
    agent_id = await _active(registry, owner, "Cached", tags=[tag], description="Original")
    redis = aioredis.Redis.from_url(emulator_env["REDIS_URL"])
    try:
        before = await _cache_keys(redis)
        first = await registry.call("GET", "/search", ANONYMOUS, params={"tag": tag})
        new_keys = await _cache_keys(redis) - before
        assert len(new_keys) == 1
        assert 0 < await redis.ttl(next(iter(new_keys))) <= 600
    finally:
        await redis.aclose()

    # Changed behind the registry's back: a cached answer does not ask Firestore.
    await registry.db.collection("agents").document(agent_id).update({"description": "Sneaky"})
    second = await registry.call("GET", "/search", ANONYMOUS, params={"tag": tag})
    assert second.content == first.content
    assert second.json()["items"][0]["description"] == "Original"

    # A write through the registry bumps the generation: the next search asks Firestore.
    await registry.call("PATCH", f"/{agent_id}", owner, json={"description": "Patched"})
    assert (await _search(registry, tag=tag))["items"][0]["description"] == "Patched"
    await registry.set_status(agent_id, "suspended", service="executor")
    assert _ids(await _search(registry, tag=tag)) == []
    await registry.set_status(agent_id, "active", service="executor")
    assert _ids(await _search(registry, tag=tag)) == [agent_id]
    fresh = await _active(registry, owner, "Another", tags=[tag])
    assert _ids(await _search(registry, tag=tag)) == [fresh, agent_id]
    assert (await registry.call("DELETE", f"/{fresh}", owner)).status_code == 204
    assert _ids(await _search(registry, tag=tag)) == [agent_id]


async def test_without_redis_search_still_answers_from_firestore(
    dev_key: tuple[Path, Path], emulator_env: dict[str, str], registry: Registry
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    tag = _unique("noredis-")
    with another_registry(registry, dev_key, emulator_env, redis_url=dead_redis) as cut_off:
        agent_id = await _active(cut_off, user(), "NoCache", tags=[tag])
        for _ in range(2):
            assert _ids(await _search(cut_off, tag=tag)) == [agent_id]
        ready = await registry.http.get(f"{cut_off.url}/readyz")
        assert ready.status_code == 503  # readiness does report the dead Redis


async def test_the_stored_sort_key_orders_by_name_then_id(registry: Registry) -> None:
    owner = user()
    agent_id = await _active(registry, owner, "Sortable Name")
    query = registry.db.collection("agents").where(filter=FieldFilter("hash_id", "==", agent_id))
    [doc] = [d.to_dict() async for d in query.stream()]
    assert doc is not None
    assert doc["sort_key"] == f"sortable name\x1f{agent_id}"
    assert doc["name_lower"] == "sortable name"
    assert doc["tool_names"] == ["black_scholes"]
