"""The caller's provider API keys over HTTP: sealed when stored, masked when listed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from agora_auth.keys.providers import Provider
from tests.auth.conftest import AuthApp, user

pytestmark = pytest.mark.integration


def provider_key(prefix: str = "sk-proj-") -> str:
    return prefix + secrets.token_urlsafe(32)


async def stored_document(auth: AuthApp, uid: str) -> dict[str, Any]:
    snapshot = await auth.db.collection("api_keys").document(uid).get()
    return snapshot.to_dict() or {}


async def reveal(auth: AuthApp, uid: str, provider: str) -> Any:
    return await auth.call("GET", f"/internal/api-keys/{uid}/{provider}", None, service="executor")


async def test_a_stored_key_is_listed_masked_and_revealed_to_the_executor(auth: AuthApp) -> None:
    owner = user()
    key = provider_key()
    response = await auth.call("PATCH", "/user/api-keys", owner, json={"openai": key})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    [masked] = response.json()["keys"]
    assert masked["provider"] == "openai"
    assert masked["last4"] == key[-4:]
    assert set(masked) == {"provider", "last4", "updated_at"}
    assert key not in response.text

    listed = await auth.call("GET", "/user/api-keys", owner)
    assert listed.status_code == 200
    assert listed.json() == response.json()
    assert listed.headers["cache-control"] == "no-store"
    assert key not in listed.text

    revealed = await reveal(auth, owner.uid or "", "openai")
    assert revealed.status_code == 200, revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    assert revealed.json() == {"uid": owner.uid, "provider": "openai", "api_key": key}


async def test_firestore_holds_only_ciphertext_naming_its_key_version(auth: AuthApp) -> None:
    owner = user()
    key = provider_key()
    await auth.call("PATCH", "/user/api-keys", owner, json={"anthropic": key})
    document = await stored_document(auth, owner.uid or "")
    stored = document["providers"]["anthropic"]
    assert document["uid"] == owner.uid
    assert stored["algorithm"] == "AES-256-GCM"
    assert stored["key_version"] == "local/1"
    assert isinstance(stored["ciphertext"], bytes)
    assert isinstance(stored["wrapped_key"], bytes)
    assert key.encode() not in stored["ciphertext"]
    assert key not in repr(document)


async def test_each_key_has_its_own_data_key(auth: AuthApp) -> None:
    owner = user()
    key = provider_key()
    await auth.call("PATCH", "/user/api-keys", owner, json={"openai": key, "groq": key})
    stored = (await stored_document(auth, owner.uid or ""))["providers"]
    assert stored["openai"]["wrapped_key"] != stored["groq"]["wrapped_key"]
    assert stored["openai"]["ciphertext"] != stored["groq"]["ciphertext"]


async def test_patch_merges_replaces_and_deletes_with_null(auth: AuthApp) -> None:
    owner = user()
    first, second, third = provider_key(), provider_key("gsk_"), provider_key()
    await auth.call("PATCH", "/user/api-keys", owner, json={"openai": first, "groq": second})
    response = await auth.call(
        "PATCH", "/user/api-keys", owner, json={"openai": third, "groq": None, "cohere": first}
    )
    assert response.status_code == 200, response.text
    masked = {k["provider"]: k["last4"] for k in response.json()["keys"]}
    assert masked == {"cohere": first[-4:], "openai": third[-4:]}
    assert (await reveal(auth, owner.uid or "", "openai")).json()["api_key"] == third
    assert (await reveal(auth, owner.uid or "", "groq")).status_code == 404
    # null for a key that is not there is nothing to do, as in a JSON merge patch
    again = await auth.call("PATCH", "/user/api-keys", owner, json={"mistral": None})
    assert again.status_code == 200
    assert [k["provider"] for k in again.json()["keys"]] == ["cohere", "openai"]


async def test_delete_removes_one_provider_and_404s_after(auth: AuthApp) -> None:
    owner = user()
    await auth.call(
        "PATCH", "/user/api-keys", owner, json={"google": provider_key("AIza"), "groq": None}
    )
    await auth.call("PATCH", "/user/api-keys", owner, json={"mistral": provider_key("")})
    response = await auth.call("DELETE", "/user/api-keys/google", owner)
    assert response.status_code == 204, response.text
    listed = await auth.call("GET", "/user/api-keys", owner)
    assert [k["provider"] for k in listed.json()["keys"]] == ["mistral"]
    again = await auth.call("DELETE", "/user/api-keys/google", owner)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "API_KEY_NOT_FOUND"


async def test_a_new_user_has_no_keys(auth: AuthApp) -> None:
    response = await auth.call("GET", "/user/api-keys", user())
    assert response.status_code == 200
    assert response.json() == {"keys": []}


async def test_the_internal_route_404s_in_the_envelope_without_a_key(auth: AuthApp) -> None:
    owner = user()
    missing_user = await reveal(auth, owner.uid or "", "openai")
    assert missing_user.status_code == 404
    assert missing_user.json()["error"]["code"] == "API_KEY_NOT_FOUND"
    await auth.call("PATCH", "/user/api-keys", owner, json={"openai": provider_key()})
    missing_provider = await reveal(auth, owner.uid or "", "anthropic")
    assert missing_provider.status_code == 404
    assert missing_provider.json()["error"]["code"] == "API_KEY_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "$.body"),
        ({"openai-ish": "sk-0123456789abcdef01"}, "$.body.openai-ish.[key]"),
        ({"OpenAI": "sk-0123456789abcdef01"}, "$.body.OpenAI.[key]"),
        ({"openai": "short"}, "$.body.openai"),
        ({"openai": "x" * 513}, "$.body.openai"),
        ({"openai": "sk-0123456789 abcdef01"}, "$.body.openai"),
        ({"openai": "sk-0123456789abcdef01\n"}, "$.body.openai"),
        ({"openai": "sk-0123456789abcdéf01"}, "$.body.openai"),
        ({"openai": 12345678901234567890}, "$.body.openai"),
        (["openai", "sk-0123456789abcdef01"], "$.body"),
    ],
)
async def test_bad_bodies_are_422_without_echoing_the_key(
    auth: AuthApp, body: Any, path: str
) -> None:
    response = await auth.call("PATCH", "/user/api-keys", user(), json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert path in {d["path"] for d in error["details"]}
    assert "0123456789" not in response.text


async def test_unknown_providers_in_paths_are_refused(auth: AuthApp) -> None:
    owner = user()
    deleted = await auth.call("DELETE", "/user/api-keys/acme", owner)
    assert deleted.status_code == 422
    revealed = await reveal(auth, owner.uid or "", "acme")
    assert revealed.status_code == 422


def test_the_sealed_keys_are_not_indexed() -> None:
    """Ciphertexts and wrapped keys are never queried: Firestore need not index them."""
    indexes = json.loads((Path(__file__).parents[2] / "firestore.indexes.json").read_text())
    assert {
        "collectionGroup": "api_keys",
        "fieldPath": "providers",
        "indexes": [],
    } in indexes["fieldOverrides"]


def test_the_provider_allowlist() -> None:
    assert [p.value for p in Provider] == [
        "openai",
        "anthropic",
        "google",
        "mistral",
        "cohere",
        "groq",
    ]


@pytest.mark.parametrize(
    ("move", "what"),
    [
        ("other-user", "to another user"),
        ("other-provider", "to another provider of the same user"),
    ],
)
async def test_a_ciphertext_moved_elsewhere_does_not_decrypt(
    auth: AuthApp, move: str, what: str
) -> None:
    """The AAD binds uid and provider: a copied record does not open anywhere else."""
    victim, thief = user(), user()
    key = provider_key()
    await auth.call("PATCH", "/user/api-keys", victim, json={"openai": key})
    record = (await stored_document(auth, victim.uid or ""))["providers"]["openai"]
    if move == "other-user":
        target_uid, target_provider = thief.uid or "", "openai"
    else:
        target_uid, target_provider = victim.uid or "", "anthropic"
    await (
        auth.db.collection("api_keys")
        .document(target_uid)
        .set({"uid": target_uid, "providers": {target_provider: record}}, merge=True)
    )
    response = await reveal(auth, target_uid, target_provider)
    assert response.status_code == 500, what
    assert response.json()["error"]["code"] == "API_KEY_UNREADABLE"
    assert key not in response.text
    # the original still opens where it belongs
    assert (await reveal(auth, victim.uid or "", "openai")).json()["api_key"] == key


async def test_the_key_file_is_private(auth: AuthApp) -> None:
    path = auth.settings.local_kek_path
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600
