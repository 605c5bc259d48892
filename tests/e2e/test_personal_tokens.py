"""Personal API tokens for real: made with an ID token, used at the gateway, revoked, expired."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agora_common.clients import close_firestore_client, make_firestore_client
from tests.e2e.conftest import Stack
from tests.e2e.test_execute import activate_quantflow
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration

OPTION = {"spot": 100, "strike": 100, "time_to_expiry": 1, "rate": 0.05, "volatility": 0.2}


def call(
    stack: Stack,
    method: str,
    path: str,
    who: EmulatorUser | str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """`who` is a signed-in user (their ID token) or a personal token."""
    headers: dict[str, str] = kwargs.pop("headers", {})
    if isinstance(who, EmulatorUser):
        headers = {**who.bearer, **headers}
    elif who is not None:
        headers = {"Authorization": f"Bearer {who}", **headers}
    return httpx.request(method, stack.api(path), headers=headers, timeout=30, **kwargs)


def make_token(stack: Stack, who: EmulatorUser, scope: str, **body: Any) -> dict[str, Any]:
    response = call(
        stack, "POST", "/auth/tokens", who, json={"name": f"{scope} token", "scope": scope, **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def execute(stack: Stack, who: EmulatorUser | str, agent_id: str) -> httpx.Response:
    body = {"agent_id": agent_id, "tool_name": "black_scholes", "payload": OPTION}
    return call(stack, "POST", "/agents/execute", who, json=body)


def move_expiry(stack: Stack, token_id: str, to: datetime) -> None:
    async def write() -> None:
        db = make_firestore_client(stack.auth_settings())
        try:
            await db.collection("personal_tokens").document(token_id).update({"expires_at": to})
        finally:
            await close_firestore_client(db)

    asyncio.run(write())


@pytest.fixture(scope="module")
def owner(stack: Stack) -> EmulatorUser:
    return stack.auth.sign_up(name="pat-owner")


@pytest.fixture(scope="module")
def quantflow(stack: Stack, owner: EmulatorUser) -> dict[str, Any]:
    return activate_quantflow(stack, owner)


def test_a_token_reads_and_executes_for_its_owner_within_its_scope(
    stack: Stack, quantflow: dict[str, Any]
) -> None:
    user = stack.auth.sign_up(name="pat-user")
    reader = make_token(stack, user, "read")["token"]
    runner = make_token(stack, user, "execute", monthly_spend_limit_usd=3)["token"]

    # Reads as the owner: the profile the auth service answers is the user's.
    profile = call(stack, "GET", "/auth/user/profile", reader)
    assert profile.status_code == 200, profile.text
    assert profile.json()["uid"] == user.uid
    health = call(stack, "GET", f"/agents/{quantflow['id']}/health", reader)
    assert health.status_code == 200, health.text

    # An execute token runs a tool; a read token is refused before the executor.
    ran = execute(stack, runner, quantflow["id"])
    assert ran.status_code == 200, ran.text
    assert ran.json()["result"]["call"]["price"] == pytest.approx(10.4506, abs=1e-4)
    refused = execute(stack, reader, quantflow["id"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "INSUFFICIENT_SCOPE"

    # Neither writes anything else.
    for token in (reader, runner):
        write = call(stack, "PATCH", "/auth/user/profile", token, json={"display_name": "x"})
        assert write.status_code == 403, write.text
        assert write.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
        registered = call(stack, "POST", "/agents/register", token, json={})
        assert registered.status_code == 403


def test_tokens_never_reach_admin_routes_even_an_admins(stack: Stack) -> None:
    admin = stack.auth.sign_up(name="pat-admin", admin=True)
    assert call(stack, "GET", "/auth/admin/users", admin).status_code == 200
    assert call(stack, "GET", "/vetting/queue", admin).status_code == 200
    for scope in ("read", "execute"):
        token = make_token(stack, admin, scope)["token"]
        for method, path in [
            ("GET", "/auth/admin/users"),
            ("POST", "/auth/admin/verify"),
            ("GET", "/vetting/queue"),
            ("PATCH", "/tools/a.b/approve"),
        ]:
            response = call(stack, method, path, token, json={})
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "PERSONAL_TOKEN_NOT_ALLOWED"


def test_a_token_cannot_manage_tokens(stack: Stack) -> None:
    user = stack.auth.sign_up(name="pat-manage")
    made = make_token(stack, user, "execute")
    token = made["token"]
    for method, path, body in [
        ("POST", "/auth/tokens", {"name": "child", "scope": "execute"}),
        ("GET", "/auth/tokens", None),
        ("DELETE", f"/auth/tokens/{made['token_id']}", None),
    ]:
        response = call(stack, method, path, token, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "PERSONAL_TOKEN_NOT_ALLOWED"
    listed = call(stack, "GET", "/auth/tokens", user).json()["tokens"]
    assert [t["token_id"] for t in listed] == [made["token_id"]]


def test_the_list_shows_the_prefix_and_last_use_never_the_secret(stack: Stack) -> None:
    user = stack.auth.sign_up(name="pat-list")
    made = make_token(stack, user, "read")
    unused = make_token(stack, user, "read")
    assert call(stack, "GET", "/registry/search", made["token"]).status_code == 200

    response = call(stack, "GET", "/auth/tokens", user)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    by_id = {t["token_id"]: t for t in response.json()["tokens"]}
    assert by_id[made["token_id"]]["prefix"] == made["token"][:14]
    assert by_id[made["token_id"]]["last_used_at"] is not None
    assert by_id[unused["token_id"]]["last_used_at"] is None
    for token in (made["token"], unused["token"]):
        assert token not in response.text and token[14:] not in response.text


def test_a_revoked_token_is_refused_within_seconds(stack: Stack) -> None:
    user = stack.auth.sign_up(name="pat-revoke")
    made = make_token(stack, user, "read")
    assert call(stack, "GET", "/auth/user/profile", made["token"]).status_code == 200

    revoked = call(stack, "DELETE", f"/auth/tokens/{made['token_id']}", user)
    assert revoked.status_code == 204, revoked.text

    deadline = time.monotonic() + 5  # the stack's revocation TTL is 0: at once, in fact
    while (answer := call(stack, "GET", "/auth/user/profile", made["token"])).status_code == 200:
        assert time.monotonic() < deadline, "a revoked token still works"
        time.sleep(0.2)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "INVALID_TOKEN"
    assert call(stack, "GET", "/auth/tokens", user).json() == {"tokens": []}


def test_an_expired_token_is_refused(stack: Stack) -> None:
    user = stack.auth.sign_up(name="pat-expired")
    made = make_token(stack, user, "read", expires_in_days=1)
    assert call(stack, "GET", "/registry/search", made["token"]).status_code == 200

    move_expiry(stack, made["token_id"], datetime.now(UTC) - timedelta(seconds=1))

    refused = call(stack, "GET", "/registry/search", made["token"])
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert made["token"] not in refused.text


def test_a_disabled_users_tokens_stop_working(stack: Stack) -> None:
    user = stack.auth.sign_up(name="pat-disabled")
    token = make_token(stack, user, "read")["token"]
    assert call(stack, "GET", "/auth/user/profile", token).status_code == 200
    stack.auth.disable(user.uid)
    refused = call(stack, "GET", "/auth/user/profile", token)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "USER_DISABLED"


def test_unknown_tokens_and_forged_identity_headers_are_refused(stack: Stack) -> None:
    unknown = call(stack, "GET", "/registry/search", "agora_pat_" + "A" * 43)
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "INVALID_TOKEN"
    # A signed-in user cannot pass for a personal token's caller, or raise a token's scope.
    user = stack.auth.sign_up(name="pat-forger")
    forged = {"X-User-Token-ID": "x" * 20, "X-User-Token-Scope": "execute"}
    made = call(
        stack,
        "POST",
        "/auth/tokens",
        user,
        json={"name": "mine", "scope": "read"},
        headers=forged,
    )
    assert made.status_code == 201, made.text  # the headers were dropped: a plain sign-in
    widened = call(stack, "PATCH", "/auth/user/profile", made.json()["token"], headers=forged)
    assert widened.status_code == 403
    assert widened.json()["error"]["code"] == "INSUFFICIENT_SCOPE"


# --- who may call the token routes through the gateway ------------------------------------------


def test_the_token_routes_for_every_kind_of_caller(stack: Stack) -> None:
    owner, other = stack.auth.sign_up(name="pat-m-owner"), stack.auth.sign_up(name="pat-m-other")
    admin = stack.auth.sign_up(name="pat-m-admin", admin=True)
    made = make_token(stack, owner, "read")
    delete = f"/auth/tokens/{made['token_id']}"

    # Anonymous: 401 on all three.
    for method, path in [("POST", "/auth/tokens"), ("GET", "/auth/tokens"), ("DELETE", delete)]:
        response = call(stack, method, path, json={"name": "x", "scope": "read"})
        assert response.status_code == 401, (method, path, response.text)

    # Another user and an admin: their own tokens only.
    for who in (other, admin):
        assert call(stack, "GET", "/auth/tokens", who).json() == {"tokens": []}
        response = call(stack, "DELETE", delete, who)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "TOKEN_NOT_FOUND"
    admins = make_token(stack, admin, "read")
    assert [t["token_id"] for t in call(stack, "GET", "/auth/tokens", admin).json()["tokens"]] == [
        admins["token_id"]
    ]

    # No admin scope to ask for.
    escalate = call(stack, "POST", "/auth/tokens", admin, json={"name": "x", "scope": "admin"})
    assert escalate.status_code == 422

    # Another service: the check is the gateway's alone, and no public path reaches it.
    direct = httpx.post(
        f"{stack.auth_service}/internal/tokens/verify",
        json={"token": made["token"]},
        headers=stack.as_service("executor", stack.auth_service),
    )
    assert direct.status_code == 403
    assert direct.json()["error"]["code"] == "CALLER_NOT_ALLOWED"
    public = call(stack, "POST", "/auth/internal/tokens/verify", owner, json={"token": "x"})
    assert public.status_code == 404

    # The owner's token still works after all that: nobody else revoked it.
    assert call(stack, "GET", "/registry/search", made["token"]).status_code == 200
    assert call(stack, "DELETE", delete, owner).status_code == 204
