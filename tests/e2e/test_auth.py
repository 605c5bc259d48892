"""The auth service through the gateway with real Auth-emulator users, agents and services."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import jwt
import pytest

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def call(
    stack: Stack, method: str, path: str, who: EmulatorUser | None = None, **kwargs: Any
) -> httpx.Response:
    headers = who.bearer if who else {}
    return httpx.request(method, stack.api(path), headers=headers, timeout=10, **kwargs)


def active_agent(stack: Stack, owner: EmulatorUser) -> dict[str, Any]:
    response = call(stack, "POST", "/agents/register", owner, json=card(unique_name()))
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    stack.set_status(agent["id"], "vetted", "active")
    return agent


def agent_sign_in(stack: Stack, owner: EmulatorUser, agent_id: str) -> EmulatorUser:
    """The owner fetches the agent's custom token; the agent exchanges it for an ID token."""
    response = call(stack, "POST", "/auth/token/custom", owner, json={"agent_id": agent_id})
    assert response.status_code == 200, response.text
    return stack.auth.sign_in_with_custom_token(response.json()["custom_token"])


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m agora_auth.cli ...` as an operator runs it, against the emulators."""
    env = {**os.environ, **stack.fleet.env_for("auth")}
    return subprocess.run(
        [sys.executable, "-m", "agora_auth.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_profile_is_made_on_first_use_and_only_safe_fields_change(stack: Stack) -> None:
    user = stack.auth.sign_up(name="profile")
    first = call(stack, "GET", "/auth/user/profile", user)
    assert first.status_code == 200, first.text
    profile = first.json()
    assert (profile["uid"], profile["email"], profile["admin"]) == (user.uid, user.email, False)
    assert call(stack, "GET", "/auth/user/profile", user).json() == profile, "made once"

    renamed = call(stack, "PATCH", "/auth/user/profile", user, json={"display_name": "Ada L."})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["display_name"] == "Ada L."
    assert renamed.json()["created_at"] == profile["created_at"]

    for forbidden in ({"admin": True}, {"uid": "x"}, {"display_name": "A", "email": "x@y.z"}):
        refused = call(stack, "PATCH", "/auth/user/profile", user, json=forbidden)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "VALIDATION_FAILED"
    for bad in ({"display_name": ""}, {"display_name": "two\nlines"}, {"display_name": 7}):
        assert call(stack, "PATCH", "/auth/user/profile", user, json=bad).status_code == 422
    after = call(stack, "GET", "/auth/user/profile", user).json()
    assert (after["display_name"], after["admin"]) == ("Ada L.", False)


def test_token_verify_says_what_a_token_says(stack: Stack) -> None:
    user, admin = stack.auth.sign_up(), stack.auth.sign_up(name="admin", admin=True)
    answer = call(stack, "POST", "/auth/token/verify", user, json={"id_token": admin.token})
    assert answer.status_code == 200, answer.text
    info = answer.json()
    assert (info["uid"], info["email"], info["admin"], info["role"]) == (
        admin.uid,
        admin.email,
        True,
        "user",
    )
    assert info["claims"]["sub"] == admin.uid
    forged = jwt.encode({"sub": "x", "aud": "other", "iss": "me"}, None, algorithm="none")
    refused = call(stack, "POST", "/auth/token/verify", user, json={"id_token": forged})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "INVALID_TOKEN"


def test_provider_keys_are_private_masked_and_only_the_executor_reads_them(stack: Stack) -> None:
    owner, other = stack.auth.sign_up(name="keys"), stack.auth.sign_up(name="other")
    key = "sk-proj-" + "x7" * 20 + "WXYZ"
    stored = call(stack, "PATCH", "/auth/user/api-keys", owner, json={"openai": key})
    assert stored.status_code == 200, stored.text
    assert stored.json()["keys"][0]["last4"] == "WXYZ"
    listed = call(stack, "GET", "/auth/user/api-keys", owner)
    assert [k["provider"] for k in listed.json()["keys"]] == ["openai"]
    assert key not in listed.text

    # Another user only ever sees their own (empty) keys and cannot delete the owner's.
    assert call(stack, "GET", "/auth/user/api-keys", other).json() == {"keys": []}
    # DELETE only ever addresses the caller's own keys: the other user has none.
    assert call(stack, "DELETE", "/auth/user/api-keys/openai", other).status_code == 404
    assert call(stack, "GET", "/auth/user/api-keys", owner).json()["keys"]

    # The decrypted key: the executor's identity only; never through the public API.
    path = f"/internal/api-keys/{owner.uid}/openai"
    revealed = httpx.get(
        stack.auth_service + path, headers=stack.as_service("executor", stack.auth_service)
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["api_key"] == key
    as_user = UserIdentity(kind=CallerKind.USER, uid=owner.uid)
    refused = httpx.get(
        stack.auth_service + path,
        headers=stack.as_service("gateway", stack.auth_service, as_user),
    )
    assert refused.status_code == 403
    assert call(stack, "GET", f"/auth{path}", owner).status_code == 404

    assert call(stack, "DELETE", "/auth/user/api-keys/openai", owner).status_code == 204
    assert call(stack, "GET", "/auth/user/api-keys", owner).json() == {"keys": []}


def test_an_admin_granted_by_the_cli_gains_admin_routes_after_a_refresh(stack: Stack) -> None:
    user = stack.auth.sign_up(name="promoted")
    assert call(stack, "GET", "/auth/admin/users", user).status_code == 403

    granted = cli(stack, "admin", "grant", user.email)
    assert granted.returncode == 0, granted.stderr
    assert "is now an admin" in granted.stdout
    # The old token has no claim yet; a refreshed one does.
    assert call(stack, "POST", "/auth/admin/verify", user).json()["admin"] is False
    user = stack.auth.sign_in(user.email)
    assert call(stack, "POST", "/auth/admin/verify", user).json()["admin"] is True
    time.sleep(1.1)  # revocation has one-second resolution: the revoke must be later
    listed = call(stack, "GET", "/auth/admin/users", user, params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert {"uid", "email", "admin", "disabled"} <= set(listed.json()["users"][0])

    revoked = cli(stack, "admin", "revoke", user.email)
    assert revoked.returncode == 0, revoked.stderr
    # Revoking also revokes the refresh tokens: the old admin token stops working at once.
    for method, path in [("GET", "/auth/admin/users"), ("PATCH", "/auth/user/profile")]:
        stale = call(stack, method, path, user, json={"display_name": "Old"})
        assert stale.status_code == 401, (method, path, stale.text)
        assert stale.json()["error"]["code"] == "TOKEN_REVOKED"
    user = stack.auth.sign_in(user.email)
    assert call(stack, "GET", "/auth/admin/users", user).status_code == 403

    missing = cli(stack, "admin", "grant", "nobody-at-all@example.com")
    assert missing.returncode == 1
    assert "USER_NOT_FOUND" in missing.stderr


def test_the_served_auth_and_its_cli_share_the_runs_own_key_encryption_key(stack: Stack) -> None:
    """Not the repository's .local/keys: a test run writes no key there, and its CLI reads the
    same key file as the service it operates on."""
    kek = stack.auth_settings().local_kek_path
    assert kek.is_relative_to(stack.state_dir)
    assert stack.fleet.env_for("auth")["AGORA_AUTH_LOCAL_KEK_FILE"] == str(kek)


async def _read_audit(stack: Stack, uid: str) -> list[dict[str, Any]]:
    db = make_firestore_client(stack.auth_settings())
    try:
        # The emulator cannot filter on a nested field; the log of a test project is small.
        entries = [doc.to_dict() or {} async for doc in db.collection("audit_log").stream()]
        return [entry for entry in entries if entry.get("target", {}).get("uid") == uid]
    finally:
        await close_firestore_client(db)


def test_admins_grant_and_revoke_over_the_api_with_an_audit_trail(stack: Stack) -> None:
    admin = stack.auth.sign_up(name="admin", admin=True)
    target = stack.auth.sign_up(name="target")
    granted = call(stack, "PUT", f"/auth/admin/users/{target.uid}/admin", admin)
    assert granted.status_code == 200, granted.text
    assert granted.json()["admin"] is True
    revoked = call(stack, "DELETE", f"/auth/admin/users/{target.uid}/admin", admin)
    assert revoked.json()["admin"] is False
    own = call(stack, "DELETE", f"/auth/admin/users/{admin.uid}/admin", admin)
    assert own.status_code == 409
    assert own.json()["error"]["code"] == "OWN_ADMIN_ROLE"
    unknown = call(stack, "PUT", "/auth/admin/users/no-such-uid/admin", admin)
    assert unknown.status_code == 404

    entries = asyncio.run(_read_audit(stack, target.uid))
    assert sorted(e["action"] for e in entries) == ["admin.grant", "admin.revoke"]
    assert all(e["actor"]["uid"] == admin.uid and e["at"] for e in entries)


def test_an_agent_signs_in_with_its_custom_token_and_reaches_what_its_role_allows(
    stack: Stack,
) -> None:
    owner = stack.auth.sign_up(name="owner")
    agent = active_agent(stack, owner)
    signed_in = agent_sign_in(stack, owner, agent["id"])
    assert signed_in.uid == f"agent:{agent['hash_id']}"

    info = call(stack, "POST", "/auth/token/verify", signed_in, json={"id_token": signed_in.token})
    assert info.status_code == 200, info.text
    assert info.json()["role"] == "agent"
    assert info.json()["claims"]["agent_id"] == agent["id"]
    assert info.json()["claims"]["owner_uid"] == owner.uid

    assert call(stack, "GET", "/registry/search", signed_in).status_code == 200
    assert call(stack, "GET", f"/agents/{agent['id']}", signed_in).status_code == 200
    for method, path, body in [
        ("POST", "/agents/register", card(unique_name())),
        ("PATCH", f"/agents/{agent['id']}", {"description": "taken over"}),
        ("DELETE", f"/agents/{agent['id']}", None),
        ("GET", "/auth/user/profile", None),
        ("POST", "/auth/token/custom", {"agent_id": agent["id"]}),
        ("GET", "/auth/admin/users", None),
    ]:
        refused = call(stack, method, path, signed_in, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["error"]["code"] == "AGENT_NOT_ALLOWED"


def test_custom_tokens_only_for_the_owner_of_an_active_agent(stack: Stack) -> None:
    owner, other = stack.auth.sign_up(name="owner"), stack.auth.sign_up(name="other")
    admin = stack.auth.sign_up(name="admin", admin=True)
    pending = call(stack, "POST", "/agents/register", owner, json=card(unique_name())).json()
    active = active_agent(stack, owner)

    def custom(who: EmulatorUser, agent_id: str) -> tuple[int, str]:
        answer = call(stack, "POST", "/auth/token/custom", who, json={"agent_id": agent_id})
        return answer.status_code, answer.json().get("error", {}).get("code", "")

    assert custom(owner, pending["id"]) == (409, "AGENT_NOT_ACTIVE")
    assert custom(other, pending["id"]) == (404, "AGENT_NOT_FOUND")
    assert custom(other, active["id"]) == (403, "NOT_AGENT_OWNER")
    assert custom(admin, active["id"]) == (403, "NOT_AGENT_OWNER")
    assert custom(owner, "no-such-agent") == (404, "AGENT_NOT_FOUND")
    assert custom(owner, "bad id!")[0] == 422


# (method, path, body, {caller: status}). Callers through the gateway: anonymous, user, admin,
# agent; "other" only where the object has an owner. Callers straight to the auth service with
# their own service identity: executor and registry (not on auth's allowlist).
MATRIX: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    (
        "POST",
        "/token/verify",
        {"id_token": "{token}"},
        {"anonymous": 401, "user": 200, "admin": 200, "agent": 200},
    ),
    ("GET", "/user/profile", None, {"anonymous": 401, "user": 200, "admin": 200, "agent": 403}),
    (
        "PATCH",
        "/user/profile",
        {"display_name": "Someone"},
        {"anonymous": 401, "user": 200, "admin": 200, "agent": 403},
    ),
    ("GET", "/user/api-keys", None, {"anonymous": 401, "user": 200, "admin": 200, "agent": 403}),
    (
        "PATCH",
        "/user/api-keys",
        {"groq": "gsk_" + "k" * 40},
        {"anonymous": 401, "user": 200, "admin": 200, "agent": 403},
    ),
    (
        "DELETE",
        "/user/api-keys/mistral",  # never set: a permitted caller reaches the service's 404
        None,
        {"anonymous": 401, "user": 404, "admin": 404, "agent": 403},
    ),
    ("POST", "/admin/verify", None, {"anonymous": 401, "user": 200, "admin": 200, "agent": 403}),
    ("GET", "/admin/users", None, {"anonymous": 401, "user": 403, "admin": 200, "agent": 403}),
    (
        "PUT",
        "/admin/users/{target}/admin",
        None,
        {"anonymous": 401, "user": 403, "admin": 200, "agent": 403},
    ),
    (
        "DELETE",
        "/admin/users/{target}/admin",
        None,
        {"anonymous": 401, "user": 403, "admin": 200, "agent": 403},
    ),
    (
        "POST",
        "/token/custom",
        {"agent_id": "{agent}"},
        {"anonymous": 401, "owner": 200, "other": 403, "admin": 403, "agent": 403},
    ),
]


@pytest.fixture(scope="module")
def cast(stack: Stack) -> dict[str, Any]:
    owner = stack.auth.sign_up(name="owner")
    agent = active_agent(stack, owner)
    return {
        "owner": owner,
        "user": stack.auth.sign_up(name="user"),
        "other": stack.auth.sign_up(name="other"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
        "agent": agent_sign_in(stack, owner, agent["id"]),
        "target": stack.auth.sign_up(name="target"),
        "agent_id": agent["id"],
    }


def _fill(text: str, cast: dict[str, Any], who: EmulatorUser | None) -> str:
    token = who.token if who else cast["user"].token
    return (
        text.replace("{target}", cast["target"].uid)
        .replace("{agent}", cast["agent_id"])
        .replace("{token}", token)
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "caller", "expected"),
    [
        (method, path, body, caller, status)
        for method, path, body, expected in MATRIX
        for caller, status in expected.items()
    ],
)
def test_gateway_callers(
    stack: Stack,
    cast: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    caller: str,
    expected: int,
) -> None:
    who = None if caller == "anonymous" else cast[caller]
    sent = {k: _fill(v, cast, who) for k, v in body.items()} if body else None
    response = call(stack, method, "/auth" + _fill(path, cast, who), who, json=sent)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["error"]["code"]


@pytest.mark.parametrize(("method", "path", "body", "_"), MATRIX)
@pytest.mark.parametrize(("service", "expected"), [("executor", 401), ("registry", 403)])
def test_other_services_calling_auth_directly(
    stack: Stack,
    cast: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    _: object,
    service: str,
    expected: int,
) -> None:
    """The executor is on auth's allowlist but is nobody as a user; registry is not on it."""
    sent = {k: _fill(v, cast, None) for k, v in body.items()} if body else None
    response = httpx.request(
        method,
        stack.auth_service + _fill(path, cast, None),
        headers=stack.as_service(service, stack.auth_service),
        json=sent,
    )
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("service", ["executor", "registry", "vetting"])
def test_only_the_gateway_may_speak_for_a_user(stack: Stack, service: str) -> None:
    admin = UserIdentity(kind=CallerKind.USER, uid="someone", admin=True)
    response = httpx.get(
        f"{stack.auth_service}/admin/users",
        headers=stack.as_service(service, stack.auth_service, admin),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] in {"IDENTITY_NOT_ALLOWED", "CALLER_NOT_ALLOWED"}
