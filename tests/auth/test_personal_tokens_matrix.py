"""Who may call the personal token routes: every route against every kind of caller, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agora_common.models import TokenScope, UserIdentity
from tests.auth.conftest import AuthApp, agent, user
from tests.support.calls import ANONYMOUS

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Caller:
    """A service (None: no token at all) speaking for a user (None: no identity headers)."""

    service: str | None
    as_user: Callable[[UserIdentity], UserIdentity | None]


def via_token(owner: UserIdentity) -> UserIdentity:
    """The owner, as the gateway forwards a caller that presented one of their personal tokens."""
    return owner.model_copy(update={"token_id": "a" * 20, "token_scope": TokenScope.EXECUTE})


CALLERS = {
    "anonymous": Caller("gateway", lambda owner: ANONYMOUS),
    "owner": Caller("gateway", lambda owner: owner),
    "other user": Caller("gateway", lambda owner: user()),
    "admin": Caller("gateway", lambda owner: user(admin=True)),
    "agent": Caller("gateway", lambda owner: agent(owner.uid)),
    "owner's personal token": Caller("gateway", via_token),
    "executor": Caller("executor", lambda owner: None),
    "executor for owner": Caller("executor", lambda owner: owner),
    "registry": Caller("registry", lambda owner: None),
    "no token": Caller(None, lambda owner: owner),
}

ROUTES = {
    "create": ("POST", "/tokens"),
    "list": ("GET", "/tokens"),
    "revoke": ("DELETE", "/tokens/{token_id}"),
    "verify": ("POST", "/internal/tokens/verify"),
}

EXPECTED: dict[tuple[str, str], tuple[int, str | None]] = {}
for _route in ROUTES:
    EXPECTED[_route, "no token"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "registry"] = (403, "CALLER_NOT_ALLOWED")  # not on auth's allowlist
for _route, _ok in (("create", 201), ("list", 200), ("revoke", 204)):
    EXPECTED[_route, "anonymous"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "owner"] = (_ok, None)
    # Everyone addresses only their own tokens: another user (an admin too) sees none of the
    # owner's and cannot revoke one.
    _others = (404, "TOKEN_NOT_FOUND") if _route == "revoke" else (_ok, None)
    EXPECTED[_route, "other user"] = _others
    EXPECTED[_route, "admin"] = _others
    EXPECTED[_route, "agent"] = (403, "USER_REQUIRED")
    EXPECTED[_route, "owner's personal token"] = (403, "PERSONAL_TOKEN_NOT_ALLOWED")
    EXPECTED[_route, "executor"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "executor for owner"] = (403, "IDENTITY_NOT_ALLOWED")
# The check is the gateway's alone, whoever it speaks for.
for _caller in ("anonymous", "owner", "other user", "admin", "agent", "owner's personal token"):
    EXPECTED["verify", _caller] = (200, None)
EXPECTED["verify", "executor"] = (403, "CALLER_NOT_ALLOWED")
EXPECTED["verify", "executor for owner"] = (403, "CALLER_NOT_ALLOWED")

assert set(EXPECTED) == {(r, c) for r in ROUTES for c in CALLERS}, "the table is complete"


@pytest.mark.parametrize(("route", "caller"), sorted(EXPECTED))
async def test_who_may_call_what(auth: AuthApp, route: str, caller: str) -> None:
    owner = user()
    made = await auth.call("POST", "/tokens", owner, json={"name": "mine", "scope": "execute"})
    assert made.status_code == 201, made.text
    token, token_id = made.json()["token"], made.json()["token_id"]
    method, path = ROUTES[route]
    who = CALLERS[caller]
    body: dict[str, Any] = {}
    if route == "create":
        body = {"json": {"name": "theirs", "scope": "read"}}
    elif route == "verify":
        body = {"json": {"token": token}}

    response = await auth.call(
        method,
        path.format(token_id=token_id),
        who.as_user(owner),
        service=who.service,
        **body,
    )

    status, code = EXPECTED[route, caller]
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
    assert token not in response.text  # a token is shown once, at its creation, never again
    assert token[14:] not in response.text
    owners = await auth.call("GET", "/tokens", owner)
    left = [t["token_id"] for t in owners.json()["tokens"]]
    if (route, caller) == ("revoke", "owner"):
        assert left == []
    else:
        assert token_id in left  # nobody else revoked it
    if route == "list" and caller in ("other user", "admin"):
        assert response.json() == {"tokens": []}
    if route == "verify" and status == 200:
        assert response.json()["uid"] == owner.uid
