"""A real registry served over HTTP on the session's emulators, and a gateway to call it as."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_registry.app import create_app
from agora_registry.repository import AgentRepository
from agora_registry.settings import RegistrySettings
from tests.support.calls import CallsAsService
from tests.support.factories import card, local_fleet
from tests.support.servers import free_port, serving


def user(uid: str | None = None, *, admin: bool = False) -> UserIdentity:
    """A signed-in user with a fresh uid unless one is given."""
    return UserIdentity(
        kind=CallerKind.USER, uid=uid or f"user-{secrets.token_hex(6)}", admin=admin
    )


@dataclass
class Registry(CallsAsService):
    """The served registry, called the way the gateway (or another service) would."""

    url: str
    project: str
    key_file: Path
    http: httpx.AsyncClient
    db: firestore.AsyncClient
    repo: AgentRepository

    async def register(
        self, owner: UserIdentity, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.call("POST", "/register", owner, json=body or card())
        assert response.status_code == 201, response.text
        agent: dict[str, Any] = response.json()
        return agent

    async def set_status(self, agent_id: str, *statuses: str, service: str = "vetting") -> None:
        for status in statuses:
            response = await self.call(
                "POST",
                f"/internal/agents/{agent_id}/status",
                None,
                service=service,
                json={"status": status, "reason": f"test: {status}"},
            )
            assert response.status_code == 200, response.text

    async def activate(self, agent_id: str) -> None:
        await self.set_status(agent_id, "vetted", "active")

    async def stored_for(self, owner_uid: str) -> list[dict[str, Any]]:
        """Every agent document of one owner, read from Firestore directly."""
        query = self.db.collection("agents").where(filter=FieldFilter("owner_uid", "==", owner_uid))
        return [doc.to_dict() or {} async for doc in query.stream()]


def registry_settings(
    dev_key: tuple[Path, Path],
    url: str,
    project: str,
    emulator_env: dict[str, str],
    **overrides: Any,
) -> RegistrySettings:
    fleet = local_fleet(dev_key, emulator_env, project, registry=url)
    return fleet.settings(RegistrySettings, **overrides)


@pytest.fixture(scope="module")
def project() -> str:
    """A project of its own per module: the emulator has no reset, so state must not leak."""
    return f"demo-agora-registry-{secrets.token_hex(4)}"


@contextmanager
def serve_registry(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str], **overrides: Any
) -> Iterator[tuple[str, RegistrySettings]]:
    """A registry on a free port, with settings `overrides`: its URL and settings."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = registry_settings(dev_key, url, project, emulator_env, **overrides)
    with serving(create_app(settings), port):
        yield url, settings


@contextmanager
def another_registry(
    registry: Registry, dev_key: tuple[Path, Path], emulator_env: dict[str, str], **overrides: Any
) -> Iterator[Registry]:
    """A second instance on `registry`'s project, as Cloud Run runs several, called the same way."""
    with serve_registry(dev_key, registry.project, emulator_env, **overrides) as (url, _):
        yield Registry(
            url, registry.project, registry.key_file, registry.http, registry.db, registry.repo
        )


@pytest.fixture(scope="module")
def served(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> Iterator[tuple[str, RegistrySettings]]:
    with serve_registry(dev_key, project, emulator_env) as served:
        yield served


@pytest.fixture(scope="module")
async def registry(
    served: tuple[str, RegistrySettings], dev_key: tuple[Path, Path], project: str
) -> AsyncIterator[Registry]:
    url, settings = served
    db = make_firestore_client(settings)
    async with httpx.AsyncClient(timeout=10) as http:
        yield Registry(url, project, dev_key[0], http, db, AgentRepository(db))
    await close_firestore_client(db)
