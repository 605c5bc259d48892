"""The registry's part of the security matrix: every route x every kind of caller."""

from __future__ import annotations

from typing import Any

import pytest

from agora_common.models import CallerKind, UserIdentity
from tests.registry.conftest import Registry, card, user
from tests.support.calls import ANONYMOUS

pytestmark = pytest.mark.integration

ALL_200 = {"anonymous": 200, "user": 200, "owner": 200, "admin": 200}
HIDDEN = {"anonymous": 404, "user": 404, "owner": 200, "admin": 200}

# (method, path, target agent, body, expected status by role); "user" is a signed-in user who
# does not own the target, "owner" the one who registered it.
MATRIX: list[tuple[str, str, str | None, Any, dict[str, int]]] = [
    (
        "POST",
        "/register",
        None,
        card,  # called in the test: each test's default name, as owners may not share one
        {"anonymous": 401, "user": 201, "owner": 201, "admin": 201},
    ),
    ("GET", "/search", None, None, ALL_200),
    (
        "GET",
        "/search?owner=me",
        None,
        None,
        {"anonymous": 401, "user": 200, "owner": 200, "admin": 200},
    ),
    (
        "GET",
        "/search?status=pending-vetting",
        None,
        None,
        {"anonymous": 403, "user": 403, "owner": 403, "admin": 200},
    ),
    ("GET", "/search?owner=me&status=pending-vetting", None, None, {**ALL_200, "anonymous": 401}),
    ("GET", "/{id}", "active", None, ALL_200),
    ("GET", "/{id}", "pending-vetting", None, HIDDEN),
    ("GET", "/{id}", "suspended", None, HIDDEN),
    ("GET", "/{id}", "missing", None, dict.fromkeys(ALL_200, 404)),
    ("GET", "/{id}/manifest", "active", None, ALL_200),
    ("GET", "/{id}/manifest", "pending-vetting", None, HIDDEN),
    (
        "PATCH",
        "/{id}",
        "active",
        {"description": "Changed"},
        {"anonymous": 401, "user": 403, "owner": 200, "admin": 403},
    ),
    (
        "PATCH",
        "/{id}",
        "pending-vetting",
        {"description": "Changed"},
        {"anonymous": 401, "user": 404, "owner": 200, "admin": 403},
    ),
    (
        "DELETE",
        "/{id}",
        "active",
        None,
        {"anonymous": 401, "user": 403, "owner": 204, "admin": 204},
    ),
    (
        "DELETE",
        "/{id}",
        "pending-vetting",
        None,
        {"anonymous": 401, "user": 404, "owner": 204, "admin": 204},
    ),
]
CASES = [
    pytest.param(method, path, target, body, role, status, id=f"{method} {path} {target} {role}")
    for method, path, target, body, by_role in MATRIX
    for role, status in by_role.items()
]


async def _agent(registry: Registry, owner: UserIdentity, target: str | None) -> str:
    if target is None:
        return ""
    if target == "missing":
        return "NoSuchAgentId0000000000"
    agent_id = str((await registry.register(owner))["id"])
    if target == "active":
        await registry.activate(agent_id)
    elif target == "suspended":
        await registry.activate(agent_id)
        await registry.set_status(agent_id, "suspended", service="executor")
    return agent_id


@pytest.mark.parametrize(("method", "path", "target", "body", "role", "expected"), CASES)
async def test_route_by_role(
    registry: Registry,
    method: str,
    path: str,
    target: str | None,
    body: Any,
    role: str,
    expected: int,
) -> None:
    owner = user()
    callers = {"anonymous": ANONYMOUS, "user": user(), "owner": owner, "admin": user(admin=True)}
    agent_id = await _agent(registry, owner, target)
    body = body() if callable(body) else body
    response = await registry.call(method, path.replace("{id}", agent_id), callers[role], json=body)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "trace_id", "timestamp"}
    if expected == 404 and target is not None:
        assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/register"),
        ("GET", "/search"),
        ("GET", "/{id}"),
        ("GET", "/{id}/manifest"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
        ("POST", "/internal/agents/{id}/status"),
    ],
)
async def test_every_route_needs_a_service_token(
    registry: Registry, method: str, path: str
) -> None:
    agent_id = await _agent(registry, user(), "active")
    response = await registry.call(
        method, path.replace("{id}", agent_id), None, service=None, json={"description": "x"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_service_outside_the_allowlist_is_refused(registry: Registry) -> None:
    response = await registry.call("GET", "/search", None, service="tasks-invoker")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CALLER_NOT_ALLOWED"


@pytest.mark.parametrize("service", ["vetting", "executor", "auth"])
async def test_only_the_gateway_may_assert_a_user(registry: Registry, service: str) -> None:
    agent_id = await _agent(registry, user(), "active")
    response = await registry.call("GET", f"/{agent_id}", user(admin=True), service=service)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "IDENTITY_NOT_ALLOWED"
    # The same service without identity headers is an anonymous reader.
    response = await registry.call("GET", f"/{agent_id}", None, service=service)
    assert response.status_code == 200, response.text


async def test_agents_acting_on_their_own_tokens_cannot_register(registry: Registry) -> None:
    agent_caller = UserIdentity(kind=CallerKind.AGENT, uid="agent-123")
    response = await registry.call("POST", "/register", agent_caller, json=card())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "USER_REQUIRED"


@pytest.mark.parametrize(
    ("service", "expected", "code"),
    [
        ("vetting", 200, None),
        ("executor", 200, None),
        ("gateway", 403, "CALLER_NOT_ALLOWED"),
        ("auth", 403, "CALLER_NOT_ALLOWED"),
        ("tool", 403, "CALLER_NOT_ALLOWED"),
        (None, 401, "UNAUTHENTICATED"),
    ],
)
async def test_internal_status_route_by_caller(
    registry: Registry, service: str | None, expected: int, code: str | None
) -> None:
    agent_id = await _agent(registry, user(), "pending-vetting")
    response = await registry.call(
        "POST",
        f"/internal/agents/{agent_id}/status",
        None,
        service=service,
        json={"status": "vetted", "reason": "scan passed"},
    )
    assert response.status_code == expected, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
        stored = await registry.repo.get(agent_id)
        assert stored is not None
        assert stored.status == "pending-vetting"


@pytest.mark.parametrize(
    ("service", "expected", "code"),
    [
        ("auth", 200, None),
        ("executor", 200, None),
        ("vetting", 200, None),
        ("gateway", 403, "CALLER_NOT_ALLOWED"),
        ("tool", 200, None),
        ("tasks-invoker", 403, "CALLER_NOT_ALLOWED"),
        (None, 401, "UNAUTHENTICATED"),
    ],
)
async def test_internal_read_route_by_caller(
    registry: Registry, service: str | None, expected: int, code: str | None
) -> None:
    owner = user()
    agent_id = await _agent(registry, owner, "pending-vetting")
    response = await registry.call("GET", f"/internal/agents/{agent_id}", None, service=service)
    assert response.status_code == expected, response.text
    if code is None:
        body = response.json()
        assert (body["id"], body["owner_uid"], body["status"]) == (
            agent_id,
            owner.uid,
            "pending-vetting",
        )
    else:
        assert response.json()["error"]["code"] == code


async def test_internal_read_of_a_missing_agent_is_404(registry: Registry) -> None:
    response = await registry.call("GET", "/internal/agents/no-such-agent", None, service="auth")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"
