"""Submitting packages: a safe archive becomes the submitter's agent, pending vetting; anything
unsafe or invalid is a 4xx in the envelope and nothing is stored."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.blobs import BlobStore, make_blob_store
from agora_common.models import CallerKind, UserIdentity
from agora_tool.settings import ToolSettings
from tests.common.test_archives import regular, special, tar_gz, zip_bytes
from tests.support.factories import local_fleet
from tests.tool.conftest import Catalog, user
from tests.tool.test_catalog import word

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


def package_card(name: str, **overrides: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": name,
        "description": "Greets people",
        "version": "0.1.0",
        "tags": ["demo"],
        "tools": [
            {
                "name": "greet",
                "description": "Say hello to someone",
                "input_schema": {"type": "object", "properties": {"who": {"type": "string"}}},
                "output_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            }
        ],
    }
    card.update(overrides)
    return card


def package(card: dict[str, Any] | None, *extra: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    members = [
        regular("src/agora_greeter/__init__.py", b""),
        regular("src/agora_greeter/__main__.py", b"print('hello')\n"),
        *extra,
    ]
    if card is not None:
        members.append(regular("agent-card.json", json.dumps(card).encode()))
    return tar_gz(*members)


@pytest.fixture(scope="module")
async def blobs(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str], catalog: Catalog
) -> AsyncIterator[BlobStore]:
    fleet = local_fleet(dev_key, emulator_env, project, tool=catalog.tool.url)
    store = make_blob_store(fleet.settings(ToolSettings))
    assert store is not None, "the suite's Cloud Storage emulator gives the tool service a bucket"
    yield store
    store.close()


async def submit(
    catalog: Catalog, who: UserIdentity | None, body: bytes, kind: str = "application/gzip"
) -> httpx.Response:
    return await catalog.tool.call(
        "POST", "/submit", who or UserIdentity(), content=body, headers={"content-type": kind}
    )


async def agents_of(catalog: Catalog, uid: str) -> list[dict[str, Any]]:
    query = catalog.db.collection("agents").where(filter=FieldFilter("owner_uid", "==", uid))
    return [doc.to_dict() or {} async for doc in query.stream()]


def blob_name(archive: bytes) -> str:
    return f"packages/sha256-{hashlib.sha256(archive).hexdigest()}.tar.gz"


async def test_a_package_becomes_the_submitters_agent_pending_vetting(
    catalog: Catalog, blobs: BlobStore
) -> None:
    owner, name = user(), f"Greeter {word()}"
    archive = package(package_card(name, deployment={"url": "https://elsewhere.example"}))
    created = await submit(catalog, owner, archive)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending-vetting"
    assert body["package_digest"] == "sha256:" + hashlib.sha256(archive).hexdigest()
    assert body["tool_ids"] == [f"{body['agent_id']}.greet"]
    assert await blobs.get(blob_name(archive), max_bytes=MiB) == archive

    agent = await catalog.registry.call("GET", f"/{body['agent_id']}", owner)
    card = agent.json()["card"]
    assert agent.json()["owner_uid"] == owner.uid
    assert card["metadata"]["source"] == blobs.url(blob_name(archive))
    # The platform decides where a submitted package runs, whatever its card said.
    assert card["deployment"]["image"].endswith(":" + hashlib.sha256(archive).hexdigest()[:16])
    assert "url" not in card["deployment"]

    mine = await catalog.get("/catalog", owner, status="pending-vetting", agent_id=body["agent_id"])
    assert [item["name"] for item in mine.json()["items"]] == ["greet"]
    again = await submit(catalog, owner, archive)
    assert again.status_code in (200, 201)
    assert again.json()["agent_id"] == body["agent_id"]  # one package, one agent
    assert len(await agents_of(catalog, str(owner.uid))) == 1


def _bad_packages() -> list[Any]:
    name = "Bad package"
    return [
        pytest.param(package(None), 422, "PACKAGE_CARD_MISSING", id="no card"),
        pytest.param(
            package(package_card(name, version="one")), 422, "PACKAGE_CARD_INVALID", id="bad card"
        ),
        pytest.param(
            package(package_card(name, metadata={"source": "agents/genesis"})),
            422,
            "PACKAGE_CARD_INVALID",
            id="card names its source",
        ),
        pytest.param(
            package(package_card(name), regular("../escape.py", b"x")),
            422,
            "ARCHIVE_UNSAFE",
            id="dot-dot",
        ),
        pytest.param(
            package(package_card(name), special("src/link", tarfile.SYMTYPE, "/etc/passwd")),
            422,
            "ARCHIVE_UNSAFE",
            id="symlink",
        ),
        pytest.param(
            zip_bytes(("zeros.bin", bytes(9 * MiB))), 422, "ARCHIVE_UNSAFE", id="zip bomb"
        ),
        pytest.param(b"not an archive at all", 422, "ARCHIVE_INVALID", id="garbage"),
        pytest.param(b"\0" * (50 * MiB), 413, "PAYLOAD_TOO_LARGE", id="50 MB"),
    ]


@pytest.mark.parametrize(("archive", "status", "code"), _bad_packages())
async def test_bad_packages_are_4xx_and_nothing_is_stored(
    catalog: Catalog, blobs: BlobStore, archive: bytes, status: int, code: str
) -> None:
    owner = user()
    refused = await submit(catalog, owner, archive)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code
    assert await agents_of(catalog, str(owner.uid)) == []
    assert not await blobs.exists(blob_name(archive))


async def test_who_may_submit(catalog: Catalog) -> None:
    archive = package(package_card(f"Greeter {word()}"))
    assert (await submit(catalog, None, archive)).status_code == 401
    as_agent = UserIdentity(kind=CallerKind.AGENT, uid="agent-1")
    assert (await submit(catalog, as_agent, archive)).status_code == 403
    wrong = await submit(catalog, user(), archive, kind="text/plain")
    assert wrong.status_code == 415
    assert wrong.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    unknown = await catalog.tool.call(
        "POST", "/submit", user(), json={"package_digest": "sha256:" + "0" * 64}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "PACKAGE_NOT_FOUND"
    malformed = await catalog.tool.call("POST", "/submit", user(), json={"package_digest": "x"})
    assert malformed.status_code == 422


async def test_only_admins_approve(catalog: Catalog) -> None:
    owner = user()
    created = await submit(catalog, owner, package(package_card(f"Greeter {word()}")))
    [tool_id] = created.json()["tool_ids"]
    path = f"/{tool_id}/approve"
    assert (await catalog.tool.call("PATCH", path, json={})).status_code == 401
    assert (await catalog.tool.call("PATCH", path, owner, json={})).status_code == 403
    assert (await catalog.tool.call("PATCH", path, user(), json={})).status_code == 403
    missing = await catalog.tool.call("PATCH", "/nobody.none/approve", user(admin=True), json={})
    assert missing.status_code == 404
