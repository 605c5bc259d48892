"""Hand-made `alg: none` tokens through the gateway: the Auth emulator's record rules locally."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jwt
import pytest
from firebase_admin import auth

from agora_common.clients import close_firestore_client, make_firestore_client
from tests.e2e.conftest import Stack
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def forged(token: str, **changes: object) -> str:
    """The emulator's tokens are unsigned: anyone can take one and change its claims."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, None, algorithm="none")


def call(stack: Stack, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, stack.api(path), headers=headers, timeout=10, **kwargs)


def is_admin(stack: Stack, uid: str) -> bool:
    claims = auth.get_user(uid, app=stack.auth.app).custom_claims or {}
    return claims.get("admin") is True


async def _profile_exists(stack: Stack, uid: str) -> bool:
    db = make_firestore_client(stack.auth_settings())
    try:
        return (await db.collection("users").document(uid).get()).exists
    finally:
        await close_firestore_client(db)


def test_a_forged_admin_claim_reaches_no_admin_route(stack: Stack) -> None:
    user, target = stack.auth.sign_up(name="forger"), stack.auth.sign_up(name="target")
    token = forged(user.token, admin=True)
    listed = call(stack, "GET", "/auth/admin/users", token)
    assert listed.status_code == 403, listed.text
    granted = call(stack, "PUT", f"/auth/admin/users/{target.uid}/admin", token)
    assert granted.status_code == 403, granted.text
    assert not is_admin(stack, target.uid)
    assert call(stack, "POST", "/auth/admin/verify", token).json()["admin"] is False
    # The auth service's own verification (token/verify) says the same.
    info = call(stack, "POST", "/auth/token/verify", user.token, json={"id_token": token})
    assert info.status_code == 200, info.text
    assert (info.json()["uid"], info.json()["admin"]) == (user.uid, False)
    assert "admin" not in info.json()["claims"]


def test_a_token_for_a_uid_that_does_not_exist_is_401_and_makes_no_profile(
    stack: Stack,
) -> None:
    user = stack.auth.sign_up(name="real")
    ghost_uid = "ghost" + user.uid[5:]
    ghost = forged(user.token, sub=ghost_uid, user_id=ghost_uid, email="ghost@example.com")
    for method, path in [("GET", "/auth/user/profile"), ("GET", "/registry/search")]:
        refused = call(stack, method, path, ghost)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["error"]["code"] == "INVALID_TOKEN"
    assert not asyncio.run(_profile_exists(stack, ghost_uid))
    verified = call(stack, "POST", "/auth/token/verify", user.token, json={"id_token": ghost})
    assert verified.status_code == 401, verified.text


def test_another_users_claims_are_not_taken_from_the_token(stack: Stack) -> None:
    user, admin = stack.auth.sign_up(name="plain"), stack.auth.sign_up(name="admin", admin=True)
    borrowed = forged(admin.token, sub=user.uid, user_id=user.uid)
    profile = call(stack, "GET", "/auth/user/profile", borrowed)
    assert profile.status_code == 200, profile.text
    assert (profile.json()["uid"], profile.json()["email"]) == (user.uid, user.email)
    assert profile.json()["admin"] is False
    assert call(stack, "GET", "/auth/admin/users", borrowed).status_code == 403


def test_a_disabled_user_is_401_on_every_route(stack: Stack) -> None:
    user = stack.auth.sign_up(name="disabled")
    assert call(stack, "GET", "/registry/search", user.token).status_code == 200
    stack.auth.disable(user.uid)
    for path in ("/registry/search", "/auth/user/profile"):
        refused = call(stack, "GET", path, user.token)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["error"]["code"] == "USER_DISABLED"


def test_admin_granted_over_the_api_works_with_a_fresh_token(stack: Stack) -> None:
    admin = stack.auth.sign_up(name="admin", admin=True)
    target: EmulatorUser = stack.auth.sign_up(name="promoted")
    granted = call(stack, "PUT", f"/auth/admin/users/{target.uid}/admin", admin.token)
    assert granted.status_code == 200, granted.text
    assert call(stack, "GET", "/auth/admin/users", target.token).status_code == 403, "old token"
    fresh = stack.auth.sign_in(target.email)
    listed = call(stack, "GET", "/auth/admin/users", fresh.token)
    assert listed.status_code == 200, listed.text
