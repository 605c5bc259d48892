"""A2A cards at the registry: the export route by caller, the signature it carries, and the
import of a signed A2A card (verified, tampered, foreign key), recorded server-side."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rfc8785
from joserfc import jws
from joserfc.jwk import ECKey, KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_common.signing.cards import sign_card
from agora_common.signing.local import LocalCardSigner
from agora_registry.repository import AgentRepository
from agora_registry.settings import RegistrySettings
from tests.registry.conftest import Registry, card, serve_registry, user
from tests.support.calls import ANONYMOUS

pytestmark = pytest.mark.integration

PUBLIC = "https://agora.test"
HIDDEN = {"anonymous": 404, "user": 404, "owner": 200, "admin": 200, "agent": 404}
SHOWN = dict.fromkeys(HIDDEN, 200)


@pytest.fixture(scope="module")
def served(
    dev_key: tuple[Path, Path], project: str, emulator_env: dict[str, str]
) -> Iterator[tuple[str, RegistrySettings]]:
    with serve_registry(dev_key, project, emulator_env, public_api_url=PUBLIC) as served:
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


@pytest.fixture(scope="module")
async def platform_jwks(served: tuple[str, RegistrySettings]) -> dict[str, Any]:
    """The public keys of the key the registry signs with (the gateway publishes the same)."""
    return await LocalCardSigner(served[1].card_signing_key_path).public_jwks()


async def _agent(registry: Registry, owner: UserIdentity, target: str) -> str:
    if target == "missing":
        return "NoSuchAgentId0000000000"
    named = card(name=f"Card {secrets.token_hex(4)}")
    agent_id = str((await registry.register(owner, named))["id"])
    if target in ("active", "suspended"):
        await registry.activate(agent_id)
    if target == "suspended":
        await registry.set_status(agent_id, "suspended", service="executor")
    return agent_id


@pytest.mark.parametrize(
    ("target", "by_role"),
    [
        ("active", SHOWN),
        ("pending-vetting", HIDDEN),
        ("suspended", HIDDEN),
        ("missing", dict.fromkeys(HIDDEN, 404)),
    ],
)
async def test_the_card_route_by_caller(
    registry: Registry, target: str, by_role: dict[str, int]
) -> None:
    owner = user()
    agent_id = await _agent(registry, owner, target)
    callers = {
        "anonymous": ANONYMOUS,
        "user": user(),
        "owner": owner,
        "admin": user(admin=True),
        "agent": UserIdentity(kind=CallerKind.AGENT, uid=f"agent-{secrets.token_hex(4)}"),
    }
    for role, expected in by_role.items():
        response = await registry.call("GET", f"/{agent_id}/agent-card.json", callers[role])
        assert response.status_code == expected, (role, response.text)
        if expected == 404:
            assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"
        elif target == "active":
            assert response.headers["cache-control"].startswith("public, max-age=")
            assert response.json()["signatures"]
        else:  # the owner's or an admin's look at a card the platform does not vouch for yet
            assert response.headers["cache-control"] == "private, no-store"
            assert "signatures" not in response.json()


@pytest.mark.parametrize(("service", "expected"), [("vetting", 200), ("executor", 200)])
async def test_another_service_reads_as_anonymous_and_may_not_assert_a_user(
    registry: Registry, service: str, expected: int
) -> None:
    active = await _agent(registry, user(), "active")
    pending = await _agent(registry, user(), "pending-vetting")
    path = f"/{active}/agent-card.json"
    assert (await registry.call("GET", path, None, service=service)).status_code == expected
    response = await registry.call("GET", f"/{pending}/agent-card.json", None, service=service)
    assert response.status_code == 404
    response = await registry.call("GET", path, user(admin=True), service=service)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "IDENTITY_NOT_ALLOWED"
    response = await registry.call("GET", path, None, service=None)
    assert response.status_code == 401


async def test_the_exported_card_is_an_a2a_card_signed_over_its_canonical_form(
    registry: Registry, platform_jwks: dict[str, Any]
) -> None:
    agent_id = await _agent(registry, user(), "active")
    exported = (await registry.call("GET", f"/{agent_id}/agent-card.json")).json()
    assert exported["supportedInterfaces"] == [
        {
            "url": f"{PUBLIC}/api/v1/agents/execute",
            "protocolBinding": "AGORA+HTTP+JSON",
            "protocolVersion": "1.0",
            "tenant": agent_id,
        }
    ]
    assert [s["id"] for s in exported["skills"]] == ["black_scholes"]
    schemas = exported["capabilities"]["extensions"][0]["params"]["skills"]
    assert schemas["black_scholes"]["input_schema"]["required"] == ["spot"]
    assert exported["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    (signature,) = exported["signatures"]
    header = json.loads(urlsafe_b64decode(signature["protected"].encode()))
    assert header["alg"] == "ES256"
    assert header["typ"] == "JOSE"
    assert header["kid"] == platform_jwks["keys"][0]["kid"]
    payload = rfc8785.dumps({k: v for k, v in exported.items() if k != "signatures"})
    compact = f"{signature['protected']}.{urlsafe_b64encode(payload).decode()}."
    keys = KeySet.import_key_set(platform_jwks)
    jws.deserialize_compact(compact + signature["signature"], keys, algorithms=["ES256"])


async def _exported(registry: Registry) -> dict[str, Any]:
    agent_id = await _agent(registry, user(), "active")
    response = await registry.call("GET", f"/{agent_id}/agent-card.json")
    card_: dict[str, Any] = response.json()
    # Imported under a new owner (the name must be free to them), with its own endpoint.
    interfaces = [{"url": "https://imported.example.com/a2a", "protocolBinding": "JSONRPC"}]
    return {
        **card_,
        "name": f"Imported {secrets.token_hex(4)}",
        "supportedInterfaces": interfaces + card_["supportedInterfaces"],
    }


async def _import(registry: Registry, owner: UserIdentity, a2a: dict[str, Any]) -> httpx.Response:
    return await registry.call("POST", "/register/a2a", owner, json=a2a)


async def test_an_import_signed_by_the_platform_is_verified_and_a_tampered_one_failed(
    registry: Registry, platform_jwks: dict[str, Any]
) -> None:
    exported = await _exported(registry)
    kid = platform_jwks["keys"][0]["kid"]
    # Renamed after the export (names are per owner), so signed again with the platform's key.
    signer = LocalCardSigner(registry.key_file.parent / "keys" / "card-signing.pem")
    signed = await sign_card(signer, exported)
    owner = user()
    response = await _import(registry, owner, signed)
    assert response.status_code == 201, response.text
    agent = response.json()
    assert agent["card_signatures"]["status"] == "verified"
    assert agent["card_signatures"]["signatures"] == [
        {"index": 0, "kid": kid, "result": "verified"}
    ]
    stored = await registry.repo.get(agent["id"])
    assert stored is not None and stored.card_signatures is not None
    assert stored.card_signatures.status == "verified"

    tampered = {**signed, "name": f"Tampered {secrets.token_hex(4)}"}
    response = await _import(registry, owner, tampered)
    assert response.status_code == 201, response.text
    check = response.json()["card_signatures"]
    assert check["status"] == "failed"
    assert check["signatures"][0] == {
        "index": 0,
        "kid": kid,
        "result": "failed",
        "reason": "does not verify",
    }
    # Only the owner and admins see the record; other readers never do.
    agent_id = response.json()["id"]
    seen = await registry.call("GET", f"/{agent_id}", user(admin=True))
    assert seen.json()["card_signatures"]["status"] == "failed"
    await registry.activate(agent_id)
    assert "card_signatures" not in (await registry.call("GET", f"/{agent_id}")).json()


async def test_a_signature_under_another_key_is_recorded_as_unverified(registry: Registry) -> None:
    exported = await _exported(registry)
    foreign = ECKey.generate_key("P-256", {"kid": "someone-else"})
    payload = rfc8785.dumps({k: v for k, v in exported.items() if k != "signatures"})
    compact = jws.serialize_compact({"alg": "ES256", "kid": "someone-else"}, payload, foreign)
    protected, _, signature = jws.detach_content(compact).split(".")
    a2a = {**exported, "signatures": [{"protected": protected, "signature": signature}]}
    response = await _import(registry, user(), a2a)
    assert response.status_code == 201, response.text
    check = response.json()["card_signatures"]
    assert check["status"] == "unverified"
    assert check["signatures"] == [{"index": 0, "kid": "someone-else", "result": "unknown_key"}]


async def test_clients_cannot_set_the_signature_record(registry: Registry) -> None:
    forged = {"status": "verified", "checked_at": "2030-01-01T00:00:00Z", "signatures": []}
    response = await registry.call("POST", "/register", user(), json=card(card_signatures=forged))
    assert response.status_code == 422
    exported = await _exported(registry)
    unsigned = {k: v for k, v in exported.items() if k != "signatures"}
    owner = user()
    response = await _import(registry, owner, {**unsigned, "card_signatures": forged})
    assert response.status_code == 201, response.text
    assert "card_signatures" not in response.json()  # an unsigned card has no record
    response = await registry.call(
        "PATCH", f"/{response.json()['id']}", owner, json={"card_signatures": forged}
    )
    assert response.status_code == 422, response.text


async def test_garbage_signatures_are_invalid_and_bounded(registry: Registry) -> None:
    exported = await _exported(registry)
    a2a = {**exported, "signatures": ["x", {"protected": "!!", "signature": "x" * 5000}]}
    response = await _import(registry, user(), a2a)
    assert response.status_code == 201, response.text
    results = response.json()["card_signatures"]["signatures"]
    assert [r["result"] for r in results] == ["invalid", "invalid"]


async def test_an_invalid_a2a_card_is_a_422_with_a2a_paths(registry: Registry) -> None:
    exported = await _exported(registry)
    response = await _import(registry, user(), {**exported, "skills": []})
    assert response.status_code == 422
    paths = [d["path"] for d in response.json()["error"]["details"]]
    assert any(p.startswith("$.body.skills") for p in paths), paths
