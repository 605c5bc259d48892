"""Every public route x every kind of caller, through the gateway, with expected statuses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "user", "owner", "other", "admin")

# (method, path, agent state, {caller: status}); "user" is a signed-in non-owner for collections.
MATRIX: list[tuple[str, str, str | None, dict[str, int]]] = [
    ("POST", "/agents/register", None, {"anonymous": 401, "user": 201, "admin": 201}),
    ("POST", "/agents/register/a2a", None, {"anonymous": 401, "user": 201, "admin": 201}),
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
        "GET",
        "/agents/{id}/agent-card.json",
        "pending",
        {"anonymous": 404, "owner": 200, "other": 404, "admin": 200},
    ),
    (
        "GET",
        "/agents/{id}/agent-card.json",
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
    # The tool catalog: public entries to anyone, others to the owner and admins.
    ("GET", "/tools/catalog", None, {"anonymous": 200, "user": 200, "admin": 200}),
    (
        "GET",
        "/tools/{tool}",
        "active",
        {"anonymous": 200, "owner": 200, "other": 200, "admin": 200},
    ),
    (
        "GET",
        "/tools/{tool}",
        "suspended",
        {"anonymous": 404, "owner": 200, "other": 404, "admin": 200},
    ),
    (
        "GET",
        "/tools/{tool}/versions",
        "suspended",
        {"anonymous": 404, "owner": 200, "other": 404, "admin": 200},
    ),
    (
        "GET",
        "/tools/{tool}/versions/latest",
        "active",
        {"anonymous": 200, "owner": 200, "other": 200, "admin": 200},
    ),
    (
        "PATCH",
        "/tools/{tool}/versions/1.0.0",
        "active",
        {"anonymous": 401, "owner": 200, "other": 403, "admin": 200},
    ),
    ("POST", "/tools/generate", None, {"anonymous": 401}),
    ("POST", "/tools/submit", None, {"anonymous": 401}),
    ("PATCH", "/tools/{tool}/approve", "active", {"anonymous": 401, "owner": 403, "other": 403}),
    (
        "PATCH",
        "/tools/{tool}/versions/1.0.0",
        "suspended",
        {"anonymous": 401, "owner": 200, "other": 404, "admin": 200},
    ),
]

A2A_CARD = {
    "description": "Quantitative finance tools",
    "version": "1.0.0",
    "url": "https://quantflow.example.com/a2a",
    "skills": [{"id": "black_scholes", "name": "Black-Scholes", "description": "Price options"}],
}

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
        if state in ("active", "suspended"):
            stack.set_status(agent_id, "vetted", "active")
            # The catalog lists the agent's tools beside the registry's answer.
            listed = eventually(lambda: _listed(stack, agent_id), seconds=10)
            assert listed, "the catalog never listed the agent's tools"
        if state == "suspended":
            stack.set_status(agent_id, "suspended")
            assert eventually(lambda: not _listed(stack, agent_id), seconds=10)
        return agent_id

    return make


def _listed(stack: Stack, agent_id: str) -> bool:
    page = httpx.get(stack.api("/tools/catalog"), params={"agent_id": agent_id})
    assert page.status_code == 200, page.text
    return bool(page.json()["items"])


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
        agent_id = make_agent(state)
        path = path.replace("{id}", agent_id).replace("{tool}", f"{agent_id}.black_scholes")
    who = {"user": "other"}.get(caller, caller)
    headers = {} if caller == "anonymous" else people[who].bearer
    body = None
    if path.endswith("/a2a"):
        body = A2A_CARD | {"name": unique_name()}
    elif method == "POST":
        body = card(unique_name())
    elif method == "PATCH" and path.endswith("/approve"):
        body = {}
    elif method == "PATCH" and path.startswith("/tools/"):
        body = {"deprecated": True, "message": "superseded"}
    elif method == "PATCH":
        body = {"description": "changed"}
    response = httpx.request(method, stack.api(path), json=body, headers=headers)
    assert response.status_code == status, response.text
    if status >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "trace_id", "timestamp"}
