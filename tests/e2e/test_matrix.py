"""Every public route x every kind of caller, through the gateway, with expected statuses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "user", "owner", "other", "admin")

# (method, path, agent state, {caller: status}); "user" is a signed-in non-owner for collections.
MATRIX: list[tuple[str, str, str | None, dict[str, int]]] = [
    ("POST", "/agents/register", None, {"anonymous": 401, "user": 201, "admin": 201}),
    ("GET", "/registry/search", None, {"anonymous": 200, "user": 200, "admin": 200}),
    (
        "GET",
        "/agents/{id}",
        "pending",
        {"anonymous": 404, "owner": 200, "other": 404, "admin": 200},
    ),
    ("GET", "/agents/{id}", "active", {"anonymous": 200, "owner": 200, "other": 200, "admin": 200}),
    (
        "GET",
        "/agents/{id}/manifest",
        "pending",
        {"anonymous": 404, "owner": 200, "other": 404, "admin": 200},
    ),
    (
        "GET",
        "/agents/{id}/manifest",
        "active",
        {"anonymous": 200, "owner": 200, "other": 200, "admin": 200},
    ),
    (
        "PATCH",
        "/agents/{id}",
        "pending",
        {"anonymous": 401, "owner": 200, "other": 404, "admin": 403},
    ),
    (
        "PATCH",
        "/agents/{id}",
        "active",
        {"anonymous": 401, "owner": 200, "other": 403, "admin": 403},
    ),
    (
        "DELETE",
        "/agents/{id}",
        "pending",
        {"anonymous": 401, "owner": 204, "other": 404, "admin": 204},
    ),
    (
        "DELETE",
        "/agents/{id}",
        "active",
        {"anonymous": 401, "owner": 204, "other": 403, "admin": 204},
    ),
]

CASES = [
    pytest.param(method, path, state, caller, status, id=f"{method} {path} {state} {caller}")
    for method, path, state, expected in MATRIX
    for caller, status in expected.items()
]


@pytest.fixture(scope="module")
def make_agent(stack: Stack, people: dict[str, EmulatorUser]) -> Callable[[str], str]:
    def make(state: str) -> str:
        created = httpx.post(
            stack.api("/agents/register"), json=card(unique_name()), headers=people["owner"].bearer
        )
        assert created.status_code == 201, created.text
        agent_id: str = created.json()["id"]
        if state == "active":
            stack.set_status(agent_id, "vetted", "active")
        return agent_id

    return make


@pytest.mark.parametrize(("method", "path", "state", "caller", "status"), CASES)
def test_route_by_caller(
    stack: Stack,
    people: dict[str, EmulatorUser],
    make_agent: Callable[[str], str],
    method: str,
    path: str,
    state: str | None,
    caller: str,
    status: int,
) -> None:
    if state is not None:
        path = path.replace("{id}", make_agent(state))
    who = {"user": "other"}.get(caller, caller)
    headers = {} if caller == "anonymous" else people[who].bearer
    body = None
    if method == "POST":
        body = card(unique_name())
    elif method == "PATCH":
        body = {"description": "changed"}
    response = httpx.request(method, stack.api(path), json=body, headers=headers)
    assert response.status_code == status, response.text
    if status >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "trace_id", "timestamp"}
