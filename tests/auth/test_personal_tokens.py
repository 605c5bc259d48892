"""Personal API tokens over HTTP on the Firestore emulator: made, listed, checked, revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agora_auth.personal_tokens.repository import PERSONAL_TOKENS
from agora_auth.personal_tokens.service import MAX_LIVE_TOKENS
from agora_common.models import UserIdentity
from tests.auth.conftest import AuthApp, user

pytestmark = pytest.mark.integration

VERIFY = "/internal/tokens/verify"


async def create(auth: AuthApp, owner: UserIdentity, **body: Any) -> dict[str, Any]:
    response = await auth.call(
        "POST", "/tokens", owner, json={"name": "ci", "scope": "read", **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def stored(auth: AuthApp, token_id: str) -> dict[str, Any]:
    snapshot = await auth.db.collection(PERSONAL_TOKENS).document(token_id).get()
    return snapshot.to_dict() or {}


async def test_a_token_is_shown_once_and_only_its_hash_is_kept(auth: AuthApp) -> None:
    owner = user()
    response = await auth.call(
        "POST",
        "/tokens",
        owner,
        json={"name": "nightly", "scope": "execute", "monthly_spend_limit_usd": 12.5},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    token = created["token"]
    assert token.startswith("agora_pat_") and len(token) >= 50
    assert created["prefix"] == token[:14]
    assert created["scope"] == "execute"
    assert created["monthly_spend_limit_usd"] == 12.5
    expires = datetime.fromisoformat(created["expires_at"])
    made = datetime.fromisoformat(created["created_at"])
    assert expires - made == timedelta(days=90)  # the default

    document = await stored(auth, created["token_id"])
    assert document["uid"] == owner.uid
    assert document["secret_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(document)
    assert token[14:] not in str(document)  # nothing past the displayed prefix is kept


async def test_the_list_shows_the_callers_own_tokens_without_secrets(auth: AuthApp) -> None:
    owner, other = user(), user()
    first = await create(auth, owner, name="first")
    second = await create(auth, owner, name="second", scope="execute", expires_in_days=1)
    await create(auth, other, name="not yours")

    response = await auth.call("GET", "/tokens", owner)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    listed = response.json()["tokens"]
    assert [t["token_id"] for t in listed] == [second["token_id"], first["token_id"]]
    assert {t["name"] for t in listed} == {"first", "second"}
    for item, made in zip(listed, (second, first), strict=True):
        assert set(item) == {
            "token_id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "monthly_spend_limit_usd",
        }
        assert item["prefix"] == made["token"][:14]
        assert item["last_used_at"] is None
        assert made["token"] not in response.text
        assert hashlib.sha256(made["token"].encode()).hexdigest() not in response.text


async def test_the_gateway_learns_who_a_token_speaks_for(auth: AuthApp) -> None:
    owner = UserIdentity.model_validate(user().model_dump() | {"email": "o@example.com"})
    created = await create(auth, owner, scope="execute", monthly_spend_limit_usd=5)

    response = await auth.call("POST", VERIFY, None, json={"token": created["token"]})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert grant == {
        "uid": owner.uid,
        "email": "o@example.com",
        "token_id": created["token_id"],
        "scope": "execute",
        "expires_at": grant["expires_at"],
        "monthly_spend_limit_usd": 5.0,
    }
    assert "token" not in grant and created["token"] not in response.text


async def test_last_use_is_written_at_most_once_a_minute(auth: AuthApp) -> None:
    owner = user()
    created = await create(auth, owner)
    ok = await auth.call("POST", VERIFY, None, json={"token": created["token"]})
    assert ok.status_code == 200
    first_use = (await stored(auth, created["token_id"]))["last_used_at"]
    assert first_use is not None

    again = await auth.call("POST", VERIFY, None, json={"token": created["token"]})
    assert again.status_code == 200
    assert (await stored(auth, created["token_id"]))["last_used_at"] == first_use

    # A minute later (moved back in storage), the next use is written.
    ref = auth.db.collection(PERSONAL_TOKENS).document(created["token_id"])
    await ref.update({"last_used_at": first_use - timedelta(minutes=2)})
    later = await auth.call("POST", VERIFY, None, json={"token": created["token"]})
    assert later.status_code == 200
    assert (await stored(auth, created["token_id"]))["last_used_at"] > first_use

    listed = (await auth.call("GET", "/tokens", owner)).json()["tokens"]
    assert listed[0]["last_used_at"] is not None


@pytest.mark.parametrize(
    "token",
    ["agora_pat_" + "A" * 43, "not-a-pat", "agora_pat_" + "x" * 200, "eyJhbGciOiJub25lIn0.e30."],
)
async def test_unknown_or_malformed_tokens_are_401(auth: AuthApp, token: str) -> None:
    response = await auth.call("POST", VERIFY, None, json={"token": token[:128]})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "INVALID_TOKEN"
    assert token[:128] not in response.text


async def test_a_revoked_token_is_refused_and_gone_from_the_list(auth: AuthApp) -> None:
    owner = user()
    created = await create(auth, owner)

    revoked = await auth.call("DELETE", f"/tokens/{created['token_id']}", owner)

    assert revoked.status_code == 204, revoked.text
    refused = await auth.call("POST", VERIFY, None, json={"token": created["token"]})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "INVALID_TOKEN"
    assert (await auth.call("GET", "/tokens", owner)).json() == {"tokens": []}
    twice = await auth.call("DELETE", f"/tokens/{created['token_id']}", owner)
    assert twice.status_code == 404
    assert twice.json()["error"]["code"] == "TOKEN_NOT_FOUND"


async def test_an_expired_token_is_refused_and_not_listed(auth: AuthApp) -> None:
    owner = user()
    created = await create(auth, owner)
    ref = auth.db.collection(PERSONAL_TOKENS).document(created["token_id"])
    await ref.update({"expires_at": datetime.now(UTC) - timedelta(seconds=1)})

    refused = await auth.call("POST", VERIFY, None, json={"token": created["token"]})

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert (await auth.call("GET", "/tokens", owner)).json() == {"tokens": []}


async def test_live_tokens_per_user_are_bounded(auth: AuthApp) -> None:
    owner = user()
    for n in range(MAX_LIVE_TOKENS):
        await create(auth, owner, name=f"t{n}")

    over = await auth.call("POST", "/tokens", owner, json={"name": "one more", "scope": "read"})

    assert over.status_code == 409, over.text
    assert over.json()["error"]["code"] == "TOO_MANY_TOKENS"
    assert len((await auth.call("GET", "/tokens", owner)).json()["tokens"]) == MAX_LIVE_TOKENS
    # Others are not held back by this user's tokens, and revoking one frees a place.
    await create(auth, user())
    first = (await auth.call("GET", "/tokens", owner)).json()["tokens"][0]
    assert (await auth.call("DELETE", f"/tokens/{first['token_id']}", owner)).status_code == 204
    await create(auth, owner, name="in its place")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "x", "scope": "admin"}, "$.body.scope"),
        ({"name": "x", "scope": "read", "expires_in_days": 0}, "$.body.expires_in_days"),
        ({"name": "x", "scope": "read", "expires_in_days": 366}, "$.body.expires_in_days"),
        (
            {"name": "x", "scope": "read", "monthly_spend_limit_usd": 0},
            "$.body.monthly_spend_limit_usd",
        ),
        ({"name": "x", "scope": "read", "uid": "someone-else"}, "$.body.uid"),
        ({"name": "x", "scope": "read", "token": "agora_pat_mine"}, "$.body.token"),
        ({"name": "", "scope": "read"}, "$.body.name"),
        ({"name": "a\nb", "scope": "read"}, "$.body.name"),
        ({"name": "x" * 101, "scope": "read"}, "$.body.name"),
        ({"scope": "read"}, "$.body.name"),
    ],
)
async def test_bad_requests_are_422_with_paths(
    auth: AuthApp, body: dict[str, Any], path: str
) -> None:
    owner = user()
    response = await auth.call("POST", "/tokens", owner, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert path in {d["path"] for d in error["details"]}
    assert (await auth.call("GET", "/tokens", owner)).json() == {"tokens": []}
