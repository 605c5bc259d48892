"""Bad input through the public API: a 4xx envelope every time, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def _tool(name: str, schema: Any = None) -> dict[str, Any]:
    return {"name": name, "description": "d", "input_schema": schema or {"type": "object"}}


BAD_BODIES: list[tuple[str, bytes]] = [
    ("malformed-json", b'{"name": "Broken", "version": '),
    ("not-an-object", b'["a", "list"]'),
    ("wrong-types", json.dumps(card(version=1, tools="black_scholes")).encode()),
    ("huge-array", json.dumps(card(tools=[_tool(f"t{i}") for i in range(5_000)])).encode()),
    ("odd-unicode", json.dumps(card(name="Evil\u202eflow\u0000")).encode()),
    ("invalid-schema", json.dumps(card(tools=[_tool("x", {"type": "no-such-type"})])).encode()),
    ("duplicate-tools", json.dumps(card(tools=[_tool("same"), _tool("same")])).encode()),
    ("server-owned", json.dumps({**card(), "owner_uid": "someone", "status": "active"}).encode()),
]


@pytest.mark.parametrize(("case", "body"), BAD_BODIES, ids=[c for c, _ in BAD_BODIES])
def test_bad_registrations_store_nothing(stack: Stack, case: str, body: bytes) -> None:
    user = stack.auth.sign_up(name=f"bad-{case}")
    response = httpx.post(
        stack.api("/agents/register"),
        content=body,
        headers={**user.bearer, "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "trace_id", "timestamp"}
    mine = httpx.get(
        stack.api("/registry/search"), params={"owner": "me"}, headers=user.bearer
    ).json()
    assert mine["items"] == [], f"{case} left an agent behind"


def test_a_bad_patch_loses_nothing_already_stored(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    owner = people["owner"]
    created = httpx.post(
        stack.api("/agents/register"), json=card(unique_name()), headers=owner.bearer
    ).json()
    for bad in ({"tools": [_tool("same"), _tool("same")]}, {"version": "one"}, {"name": ""}):
        response = httpx.patch(
            stack.api(f"/agents/{created['id']}"), json=bad, headers=owner.bearer
        )
        assert response.status_code == 422, response.text
    stored = httpx.get(stack.api(f"/agents/{created['id']}"), headers=owner.bearer).json()
    assert stored["card"] == created["card"]
