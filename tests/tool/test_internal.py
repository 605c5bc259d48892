"""Internal routes: who may send change notices, and the reconcile that repairs lost ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from agora_common.clients import close_firestore_client
from tests.support.waiting import eventually_async
from tests.tool.conftest import Catalog, open_catalog, serve_pair, user
from tests.tool.test_catalog import listed, tools_card, word

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def deaf(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> AsyncIterator[Catalog]:
    """A registry that never tells the tool service anything: every notice is lost."""
    with ExitStack() as stack:
        urls = serve_pair(
            stack, dev_key, project + "-deaf", emulator_env, registry_tells_tool=False
        )
        async with httpx.AsyncClient(timeout=30) as http:
            opened = await open_catalog(urls, dev_key, project + "-deaf", emulator_env, http)
            yield opened
            await close_firestore_client(opened.db)


async def test_the_reconcile_repairs_lost_notices_both_ways(deaf: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await deaf.active_agent(owner, **tools_card(w))
    assert await listed(deaf, agent_id=agent_id) == []  # the notice was lost

    reconciled = await deaf.tool.call(
        "POST", "/internal/reconcile", None, service="catalog-scheduler"
    )
    assert reconciled.status_code == 200, reconciled.text
    assert reconciled.json()["agents"] >= 1
    assert len(await listed(deaf, agent_id=agent_id)) == 2

    await deaf.set_status(agent_id, "suspended")
    assert len(await listed(deaf, agent_id=agent_id)) == 2  # lost again
    again = await deaf.tool.call("POST", "/internal/reconcile", None, service="catalog-scheduler")
    assert again.status_code == 200
    assert await listed(deaf, agent_id=agent_id) == []


async def test_a_sync_is_idempotent(catalog: Catalog) -> None:
    owner, w = user(), word()
    agent_id = await catalog.active_agent(owner, **tools_card(w))
    assert await eventually_async(lambda: listed(catalog, agent_id=agent_id), seconds=10)
    before = await listed(catalog, agent_id=agent_id)
    for _ in range(2):
        synced = await catalog.tool.call(
            "POST", f"/internal/agents/{agent_id}/sync", None, service="registry"
        )
        assert synced.status_code == 200
        assert sorted(synced.json()["tools"]) == sorted(i["tool_id"] for i in before)
    assert await listed(catalog, agent_id=agent_id) == before  # same times: nothing rewritten


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/internal/agents/some-agent/sync", "registry"),
        ("/internal/reconcile", "catalog-scheduler"),
    ],
)
async def test_internal_routes_admit_only_their_caller(
    catalog: Catalog, path: str, allowed: str
) -> None:
    anonymous = await catalog.tool.call("POST", path, None, service=None)
    assert anonymous.status_code == 401
    for service in ("gateway", "registry", "catalog-scheduler"):
        if service == allowed:
            continue
        refused = await catalog.tool.call("POST", path, None, service=service)
        assert refused.status_code == 403, (service, refused.text)
    for service in ("executor", "vetting"):  # not allowed to call the tool service at all
        refused = await catalog.tool.call("POST", path, None, service=service)
        assert refused.status_code == 403, (service, refused.text)
    as_user = await catalog.tool.call("POST", path, user(admin=True))  # through the gateway
    assert as_user.status_code == 403
