"""A real auth service served over HTTP on the session's emulators, and callers to call it as.

Each module gets its own served app and project id (the emulator has no reset). A module changes
the app's settings by overriding the `auth_overrides` fixture; `AuthApp.call` calls it as any
service (gateway by default) on behalf of any user.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.cloud import firestore

from agora_auth.app import create_app
from agora_auth.settings import AuthSettings
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from tests.support.calls import CallsAsService
from tests.support.factories import local_fleet
from tests.support.kms import KmsStandIn, kms_stand_in
from tests.support.servers import free_port, serving


def user(uid: str | None = None, *, admin: bool = False) -> UserIdentity:
    """A signed-in user with a fresh uid unless one is given."""
    return UserIdentity(
        kind=CallerKind.USER, uid=uid or f"user-{secrets.token_hex(6)}", admin=admin
    )


def agent(uid: str | None = None) -> UserIdentity:
    """A caller signed in as an agent (an agent token), with a fresh uid unless one is given."""
    return UserIdentity(kind=CallerKind.AGENT, uid=uid or f"agent-{secrets.token_hex(6)}")


def auth_settings(
    dev_key: tuple[Path, Path],
    url: str,
    project: str,
    emulator_env: dict[str, str],
    **overrides: Any,
) -> AuthSettings:
    """Local-mode settings of an auth app at `url` on the session's emulators."""
    fleet = local_fleet(dev_key, emulator_env, project, auth=url)
    return fleet.settings(AuthSettings, **overrides)


@dataclass
class AuthApp(CallsAsService):
    """The served auth service, called the way the gateway (or another service) would."""

    url: str
    project: str
    key_file: Path
    settings: AuthSettings
    http: httpx.AsyncClient
    db: firestore.AsyncClient


@pytest.fixture(scope="session")
def kms() -> Iterator[KmsStandIn]:
    """The session's KMS stand-in (tests that change its mode set it back)."""
    with kms_stand_in() as server:
        yield server


@pytest.fixture(scope="module")
def project() -> str:
    """A project of its own per module: the emulator has no reset, so state must not leak."""
    return f"demo-agora-auth-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def kek_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's local key-encryption key file (made by the app on first use)."""
    return tmp_path_factory.mktemp("kek") / "api-keys-kek.json"


@pytest.fixture(scope="module")
def auth_overrides(kek_file: Path) -> dict[str, Any]:
    """Settings of this module's app; override the fixture in a module to change them."""
    return {"local_kek_file": kek_file}


@pytest.fixture(scope="module")
def served_auth(
    dev_key: tuple[Path, Path],
    project: str,
    emulator_env: dict[str, str],
    auth_overrides: dict[str, Any],
) -> Iterator[tuple[str, AuthSettings]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = auth_settings(dev_key, url, project, emulator_env, **auth_overrides)
    with serving(create_app(settings), port):
        yield url, settings


@pytest.fixture(scope="module")
async def auth(
    served_auth: tuple[str, AuthSettings], dev_key: tuple[Path, Path], project: str
) -> AsyncIterator[AuthApp]:
    url, settings = served_auth
    db = make_firestore_client(settings)
    async with httpx.AsyncClient(timeout=10) as http:
        yield AuthApp(url, project, dev_key[0], settings, http, db)
    await close_firestore_client(db)
