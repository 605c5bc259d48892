"""Who may call the API keys routes: every route against every kind of caller, over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from agora_common.models import UserIdentity
from tests.auth.conftest import AuthApp, agent, user
from tests.support.calls import ANONYMOUS

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Caller:
    """A service (None: no token at all) speaking for a user (None: no identity headers)."""

    service: str | None
    as_user: Callable[[UserIdentity], UserIdentity | None]


OWNER_KEY_PREFIX = "sk-owner-"
CALLERS = {
    "anonymous": Caller("gateway", lambda owner: ANONYMOUS),
    "owner": Caller("gateway", lambda owner: owner),
    "other user": Caller("gateway", lambda owner: user()),
    "admin": Caller("gateway", lambda owner: user(admin=True)),
    # An agent token, even one carrying the owner's uid: keys belong to human users.
    "agent": Caller("gateway", lambda owner: agent(owner.uid)),
    "executor": Caller("executor", lambda owner: None),
    "executor for owner": Caller("executor", lambda owner: owner),
    "registry for owner": Caller("registry", lambda owner: owner),
    "vetting": Caller("vetting", lambda owner: None),
    # The Tool Factory's llm kind reads the user's key for one generation.
    "tool": Caller("tool", lambda owner: None),
    "no token": Caller(None, lambda owner: owner),
}

ROUTES = {
    "list": ("GET", "/user/api-keys"),
    "set": ("PATCH", "/user/api-keys"),
    "delete": ("DELETE", "/user/api-keys/openai"),
    "reveal": ("GET", "/internal/api-keys/{uid}/openai"),
}

# (route, caller) -> (status, error code or None)
EXPECTED: dict[tuple[str, str], tuple[int, str | None]] = {}
for _route in ROUTES:
    EXPECTED[_route, "no token"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "registry for owner"] = (403, "CALLER_NOT_ALLOWED")  # not on auth's list
    EXPECTED[_route, "vetting"] = (403, "CALLER_NOT_ALLOWED")
for _route, _ok in (("list", 200), ("set", 200), ("delete", 204)):
    EXPECTED[_route, "anonymous"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "owner"] = (_ok, None)
    # Others only ever address their own keys: they see none of the owner's, delete nothing.
    _others = (404, "API_KEY_NOT_FOUND") if _route == "delete" else (_ok, None)
    EXPECTED[_route, "other user"] = _others
    EXPECTED[_route, "admin"] = EXPECTED[_route, "other user"]
    EXPECTED[_route, "agent"] = (403, "USER_REQUIRED")
    EXPECTED[_route, "executor"] = (401, "UNAUTHENTICATED")
    EXPECTED[_route, "executor for owner"] = (403, "IDENTITY_NOT_ALLOWED")
    EXPECTED[_route, "tool"] = (401, "UNAUTHENTICATED")
for _caller in ("anonymous", "owner", "other user", "admin", "agent"):  # all as the gateway
    EXPECTED["reveal", _caller] = (403, "CALLER_NOT_ALLOWED")
EXPECTED["reveal", "executor"] = (200, None)
EXPECTED["reveal", "executor for owner"] = (200, None)
EXPECTED["reveal", "tool"] = (200, None)

assert set(EXPECTED) == {(r, c) for r in ROUTES for c in CALLERS}, "the table is complete"


async def owner_key(auth: AuthApp, owner: UserIdentity) -> httpx.Response:
    return await auth.call(
        "GET", f"/internal/api-keys/{owner.uid}/openai", None, service="executor"
    )


@pytest.mark.parametrize(("route", "caller"), sorted(EXPECTED))
async def test_who_may_call_what(auth: AuthApp, route: str, caller: str) -> None:
    owner = user()
    key = OWNER_KEY_PREFIX + secrets.token_urlsafe(24)
    stored = await auth.call("PATCH", "/user/api-keys", owner, json={"openai": key})
    assert stored.status_code == 200, stored.text
    method, path = ROUTES[route]
    who = CALLERS[caller]
    body = {"json": {"openai": "sk-new-" + secrets.token_urlsafe(24)}} if route == "set" else {}

    response = await auth.call(
        method,
        path.format(uid=owner.uid),
        who.as_user(owner),
        service=who.service,
        **body,  # type: ignore[arg-type]
    )

    status, code = EXPECTED[route, caller]
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
    if caller != "owner":
        # Whatever they were allowed, the owner's key is as the owner left it...
        still = await owner_key(auth, owner)
        assert still.json()["api_key"] == key
        # ...and nobody but the executor and the tool service ever sees it, or its last four.
        if not caller.startswith(("executor", "tool")):
            assert key not in response.text
            assert key[-4:] not in response.text or response.status_code >= 400
    if route == "list" and caller in ("other user", "admin"):
        assert response.json() == {"keys": []}
