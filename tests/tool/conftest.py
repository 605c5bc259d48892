"""A real registry and tool service on the session's emulators, each knowing the other."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.cloud import firestore

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_registry.app import create_app as registry_app
from agora_registry.settings import RegistrySettings
from agora_tool.app import create_app as tool_app
from agora_tool.settings import ToolSettings
from tests.support.calls import CallsAsService
from tests.support.factories import card, local_fleet
from tests.support.servers import free_port, serving


def user(uid: str | None = None, *, admin: bool = False) -> UserIdentity:
    return UserIdentity(
        kind=CallerKind.USER, uid=uid or f"user-{secrets.token_hex(6)}", admin=admin
    )


@dataclass
class Served(CallsAsService):
    url: str
    project: str
    key_file: Path
    http: httpx.AsyncClient


@dataclass
class Catalog:
    """The tool service (`tool`), the registry beside it, and Firestore."""

    tool: Served
    registry: Served
    db: firestore.AsyncClient

    async def register(self, owner: UserIdentity, **overrides: Any) -> str:
        response = await self.registry.call("POST", "/register", owner, json=card(**overrides))
        assert response.status_code == 201, response.text
        agent_id: str = response.json()["id"]
        return agent_id

    async def set_status(self, agent_id: str, *statuses: str) -> None:
        for status in statuses:
            response = await self.registry.call(
                "POST",
                f"/internal/agents/{agent_id}/status",
                None,
                service="vetting",
                json={"status": status, "reason": f"test: {status}"},
            )
            assert response.status_code == 200, response.text

    async def active_agent(self, owner: UserIdentity, **overrides: Any) -> str:
        agent_id = await self.register(owner, **overrides)
        await self.set_status(agent_id, "vetted", "active")
        return agent_id

    async def get(
        self, path: str, as_user: UserIdentity | None = None, **params: Any
    ) -> httpx.Response:
        return await self.tool.call("GET", path, as_user or UserIdentity(), params=params)


def serve_pair(
    stack: ExitStack,
    dev_key: tuple[Path, Path],
    project: str,
    emulator_env: dict[str, str],
    *,
    registry_tells_tool: bool = True,
    **tool_overrides: Any,
) -> tuple[str, str]:
    """A registry and a tool service on free ports; the registry's notices reach the tool
    service unless `registry_tells_tool` is False (a lost notice, for the reconcile)."""
    registry_url = f"http://127.0.0.1:{free_port()}"
    tool_url = f"http://127.0.0.1:{free_port()}"
    urls = {"registry": registry_url, "tool": tool_url}
    registry_fleet = local_fleet(
        dev_key,
        emulator_env,
        project,
        **(urls if registry_tells_tool else {"registry": registry_url}),
    )
    fleet = local_fleet(dev_key, emulator_env, project, **urls)
    registry_settings = registry_fleet.settings(RegistrySettings, read_cache_ttl_s=0)
    tool_settings = fleet.settings(ToolSettings, **{"reconcile_interval_s": 0, **tool_overrides})
    stack.enter_context(
        serving(registry_app(registry_settings), int(registry_url.rsplit(":", 1)[1]))
    )
    stack.enter_context(serving(tool_app(tool_settings), int(tool_url.rsplit(":", 1)[1])))
    return registry_url, tool_url


@pytest.fixture(scope="module")
def project() -> str:
    return f"demo-agora-tool-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def served_pair(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        yield serve_pair(stack, dev_key, project, emulator_env)


async def open_catalog(
    urls: tuple[str, str],
    dev_key: tuple[Path, Path],
    project: str,
    emulator_env: dict[str, str],
    http: httpx.AsyncClient,
) -> Catalog:
    registry_url, tool_url = urls
    settings = local_fleet(dev_key, emulator_env, project, tool=tool_url).settings(ToolSettings)
    return Catalog(
        tool=Served(tool_url, project, dev_key[0], http),
        registry=Served(registry_url, project, dev_key[0], http),
        db=make_firestore_client(settings),
    )


@pytest.fixture(scope="module")
async def catalog(
    served_pair: tuple[str, str],
    dev_key: tuple[Path, Path],
    project: str,
    emulator_env: dict[str, str],
) -> AsyncIterator[Catalog]:
    async with httpx.AsyncClient(timeout=10) as http:
        opened = await open_catalog(served_pair, dev_key, project, emulator_env, http)
        yield opened
        await close_firestore_client(opened.db)
