"""Versions: immutable once published, deprecation by owners and admins, `latest`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agora_common.errors import AgoraError
from agora_tool.records import ToolContent, ToolVersion
from agora_tool.repository import ToolRepository
from tests.support.waiting import eventually_async
from tests.tool.conftest import Catalog, user
from tests.tool.test_catalog import tools_card, word

pytestmark = pytest.mark.integration


async def raw_version(catalog: Catalog, tool_id: str, version: str) -> tuple[Any, Any]:
    snapshot = await catalog.db.document(f"tools/{tool_id}/versions/{version}").get()
    return snapshot.to_dict(), snapshot.update_time


async def new_card_version(
    catalog: Catalog, owner: Any, agent_id: str, w: str, version: str, description: str
) -> None:
    body = tools_card(w, version=version)
    body["tools"][0]["description"] = description
    patched = await catalog.registry.call(
        "PATCH", f"/{agent_id}", owner, json={"tools": body["tools"], "version": version}
    )
    assert patched.status_code == 200, patched.text
    await catalog.set_status(agent_id, "vetted", "active")


async def test_a_new_card_version_is_a_new_tool_version_and_the_old_one_stays(
    catalog: Catalog,
) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    tool_id = f"{agent_id}.{w}_price"

    async def has(version: str) -> bool:
        answer = await catalog.get(f"/{tool_id}", owner)
        return answer.status_code == 200 and answer.json()["current_version"] == version

    async def published(version: str) -> bool:
        return (await raw_version(catalog, tool_id, version))[0] is not None

    assert await eventually_async(lambda: has("1.0.0"), seconds=30)
    assert await eventually_async(lambda: published("1.0.0"), seconds=30)
    before = await raw_version(catalog, tool_id, "1.0.0")

    await new_card_version(catalog, owner, agent_id, w, "1.1.0", "Price it, faster")
    assert await eventually_async(lambda: has("1.1.0"), seconds=30)
    assert await raw_version(catalog, tool_id, "1.0.0") == before  # byte for byte, untouched

    async def both_listed() -> bool:
        answer = (await catalog.get(f"/{tool_id}/versions")).json()
        return [v["version"] for v in answer["items"]] == ["1.1.0", "1.0.0"]

    # The entry and its version records are written by one sync; a loaded machine may read
    # between the two, so the records are awaited like the entry.
    assert await eventually_async(both_listed, seconds=30)
    listed = (await catalog.get(f"/{tool_id}/versions")).json()
    assert listed["latest"] == "1.1.0"
    old = (await catalog.get(f"/{tool_id}/versions/1.0.0")).json()
    assert old["description"] == f"Price an option with the {w} model"
    assert (await catalog.get(f"/{tool_id}")).json()["description"] == "Price it, faster"


async def test_reusing_a_version_with_other_content_changes_nothing_published(
    catalog: Catalog,
) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    tool_id = f"{agent_id}.{w}_price"

    async def published() -> bool:
        return (await catalog.get(f"/{tool_id}")).status_code == 200

    assert await eventually_async(published, seconds=10)
    before = await raw_version(catalog, tool_id, "1.0.0")
    await new_card_version(catalog, owner, agent_id, w, "1.0.0", "Other content, same version")

    async def conflict() -> str | None:
        answer = (await catalog.get(f"/{tool_id}", owner)).json()
        found: str | None = answer.get("version_conflict")
        return found

    assert "without a new version" in (await eventually_async(conflict, seconds=10) or "")
    assert await raw_version(catalog, tool_id, "1.0.0") == before
    public = (await catalog.get(f"/{tool_id}")).json()
    assert public["description"] == f"Price an option with the {w} model"
    assert "version_conflict" not in public  # for the owner and admins only


async def test_publishing_a_version_again_with_other_content_is_409(catalog: Catalog) -> None:
    repo = ToolRepository(catalog.db)
    tool_id = f"agent{word()}.tool"
    content = ToolContent("one", {"type": "object"}, None, card_digest="a" * 64)
    now = datetime.now(UTC)
    assert await repo.publish(tool_id, ToolVersion("1.0.0", content, now)) is True
    assert await repo.publish(tool_id, ToolVersion("1.0.0", content, now)) is False  # same: no-op
    other = ToolContent("two", {"type": "object"}, None, card_digest="a" * 64)
    with pytest.raises(AgoraError) as refused:
        await repo.publish(tool_id, ToolVersion("1.0.0", other, now))
    assert refused.value.status_code == 409
    assert refused.value.code == "VERSION_EXISTS"
    stored = await repo.get_version(tool_id, "1.0.0")
    assert stored is not None and stored.content.description == "one"


async def test_deprecation_by_the_owner_moves_latest_and_others_may_not(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    tool_id = f"{agent_id}.{w}_price"

    async def versions(count: int) -> bool:
        answer = await catalog.get(f"/{tool_id}/versions", owner)
        return answer.status_code == 200 and len(answer.json()["items"]) == count

    assert await eventually_async(lambda: versions(1), seconds=10)
    await new_card_version(catalog, owner, agent_id, w, "2.0.0", "Version two")
    assert await eventually_async(lambda: versions(2), seconds=10)

    path = f"/{tool_id}/versions/2.0.0"
    body = {"deprecated": True, "message": "use 1.0.0 until 2.0.1"}
    assert (await catalog.tool.call("PATCH", path, json=body)).status_code == 401
    assert (await catalog.tool.call("PATCH", path, user(), json=body)).status_code == 403
    done = await catalog.tool.call("PATCH", path, owner, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["deprecated"] is True
    assert done.json()["deprecation_message"] == "use 1.0.0 until 2.0.1"
    latest = await catalog.get(f"/{tool_id}/versions/latest")
    assert latest.json()["version"] == "1.0.0"
    missing = await catalog.tool.call("PATCH", f"/{tool_id}/versions/9.9.9", owner, json=body)
    assert missing.status_code == 404
    extra = await catalog.tool.call("PATCH", path, owner, json={**body, "content_digest": "forged"})
    assert extra.status_code == 422  # server-owned fields are refused
    undo = await catalog.tool.call("PATCH", path, user(admin=True), json={"deprecated": False})
    assert undo.status_code == 200
    assert (await catalog.get(f"/{tool_id}/versions/latest")).json()["version"] == "2.0.0"
