"""The catalog follows the registry: tools appear, leave and come back with their agent."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.support.waiting import eventually_async
from tests.tool.conftest import Catalog, user

pytestmark = pytest.mark.integration


def tools_card(word: str, **overrides: Any) -> dict[str, Any]:
    """A card with two tools whose names and descriptions carry `word` (for searches)."""
    body: dict[str, Any] = {
        "name": f"Catalog {word}",
        "version": "1.0.0",
        "tags": ["finance", word],
        "tools": [
            {
                "name": f"{word}_price",
                "description": f"Price an option with the {word} model",
                "input_schema": {
                    "type": "object",
                    "properties": {"spot": {"type": "number"}, "strike": {"type": "number"}},
                },
                "output_schema": {
                    "type": "object",
                    "properties": {"price": {"type": "number"}},
                },
            },
            {
                "name": f"{word}_greeks",
                "description": "Sensitivities of a position",
                "input_schema": {
                    "type": "object",
                    "properties": {"volatility": {"type": "number"}},
                },
            },
        ],
    }
    body.update(overrides)
    return body


def word() -> str:
    return "w" + secrets.token_hex(4)


async def listed(catalog: Catalog, **params: Any) -> list[dict[str, Any]]:
    response = await catalog.get("/catalog", **params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_active_agents_tools_appear_with_their_schemas(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    items = await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=10)
    assert sorted(item["name"] for item in items) == [f"{w}_greeks", f"{w}_price"]
    price = next(item for item in items if item["name"] == f"{w}_price")
    assert price["tool_id"] == f"{agent_id}.{w}_price"
    assert price["agent_name"] == f"Catalog {w}"
    assert price["status"] == "active"
    assert price["current_version"] == "1.0.0"
    assert price["versions"] == ["1.0.0"]
    assert price["output_schema"] == {"type": "object", "properties": {"price": {"type": "number"}}}
    assert "owner_uid" not in price  # an anonymous reader sees no owner fields
    one = await catalog.get(f"/{price['tool_id']}", owner)
    assert one.status_code == 200
    assert one.json()["owner_uid"] == owner.uid


async def test_a_pending_agents_tools_are_its_owners_alone_and_unpublished(
    catalog: Catalog,
) -> None:
    owner, w = user(), word()
    agent_id = await catalog.register(owner, **tools_card(w))
    await catalog.set_status(agent_id, "vetted")

    async def mine() -> list[dict[str, Any]]:
        answer = await catalog.get("/catalog", owner, agent_id=agent_id, status="vetted")
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    items = await eventually_async(mine, seconds=10)
    assert len(items) == 2
    assert [item["versions"] for item in items] == [[], []]  # nothing published yet
    assert items[0]["current_version"] == "1.0.0"  # the version approval would publish
    assert await listed(catalog, agent_id=agent_id) == []  # not public
    others = await catalog.get("/catalog", user(), agent_id=agent_id, status="vetted")
    assert others.json()["items"] == []
    tool_id = items[0]["tool_id"]
    assert (await catalog.get(f"/{tool_id}/versions", owner)).json()["items"] == []
    assert (await catalog.get(f"/{tool_id}", user())).status_code == 404


async def test_suspension_takes_tools_out_of_the_public_catalog_and_back(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    assert await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=10)
    await catalog.set_status(agent_id, "suspended")

    async def gone() -> bool:
        return await listed(catalog, agent_id=agent_id) == []

    assert await eventually_async(gone, seconds=5)
    tool_id = f"{agent_id}.{w}_price"
    assert (await catalog.get(f"/{tool_id}")).status_code == 404
    assert (await catalog.get(f"/{tool_id}", user())).status_code == 404
    assert (await catalog.get(f"/{tool_id}", owner)).json()["status"] == "suspended"
    assert (await catalog.get(f"/{tool_id}", user(admin=True))).status_code == 200
    own = await catalog.get("/catalog", owner, status="suspended", agent_id=agent_id)
    assert len(own.json()["items"]) == 2
    other = await catalog.get("/catalog", user(), status="suspended", agent_id=agent_id)
    assert other.json()["items"] == []
    anonymous = await catalog.get("/catalog", status="suspended")
    assert anonymous.status_code == 401

    await catalog.set_status(agent_id, "active")
    back = await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=5)
    assert len(back) == 2


async def test_a_deleted_agents_tools_are_removed(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    assert await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=10)
    deleted = await catalog.registry.call("DELETE", f"/{agent_id}", owner)
    assert deleted.status_code == 204

    async def removed() -> bool:
        answer = await catalog.get(f"/{agent_id}.{w}_price", owner)
        return answer.status_code == 200 and answer.json()["status"] == "removed"

    assert await eventually_async(removed, seconds=5)
    assert await listed(catalog, agent_id=agent_id) == []


async def test_searches_match_words_and_prefixes_tags_and_input_fields(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    assert await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=10)

    async def names(**params: Any) -> list[str]:
        return sorted(item["name"] for item in await listed(catalog, **params))

    assert await names(q=w) == [f"{w}_greeks", f"{w}_price"]  # a word of the name
    assert await names(q=w[:4].upper(), agent_id=agent_id) == [f"{w}_greeks", f"{w}_price"]
    assert await names(q=f"{w} model") == [f"{w}_price"]  # every word must match
    assert await names(q=f"sensitiv {w}") == [f"{w}_greeks"]  # a prefix of a description word
    assert await names(tag=w) == [f"{w}_greeks", f"{w}_price"]
    assert await names(input_field="volatility", tag=w) == [f"{w}_greeks"]
    assert await names(input_field="STRIKE", q=w) == [f"{w}_price"]
    assert await names(q=f"{w} nothing") == []


async def test_pages_follow_an_opaque_cursor_that_is_tied_to_its_search(catalog: Catalog) -> None:
    owner, w = user(), word()
    tools = [
        {"name": f"t{i}_{w}", "description": f"tool {i} of {w}", "input_schema": {"type": "object"}}
        for i in range(5)
    ]
    await catalog.active_agent(owner, **tools_card(w, tools=tools))
    assert await eventually_async(lambda: listed(catalog, q=w), seconds=10)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": w, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await catalog.get("/catalog", **params)).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
        foreign = await catalog.get("/catalog", q="other", cursor=cursor)
        assert foreign.status_code == 400
        assert foreign.json()["error"]["code"] == "INVALID_CURSOR"
    assert seen == sorted(f"t{i}_{w}" for i in range(5))
    too_many = await catalog.get("/catalog", limit=101)
    assert too_many.status_code == 422


async def test_bad_filters_are_4xx_in_the_envelope(catalog: Catalog) -> None:
    for params in ({"status": "bogus"}, {"tag": "Not A Tag"}, {"limit": 0}, {"q": ""}):
        response = await catalog.get("/catalog", user(admin=True), **params)
        assert response.status_code in (400, 422), params
        assert "error" in response.json()
    assert (await catalog.get("/not-a-tool-id")).status_code == 404
