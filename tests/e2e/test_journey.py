"""The owner's first journey through the public API, with real users and real services."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def _search(stack: Stack, user: EmulatorUser | None = None, **params: str) -> list[str]:
    headers = user.bearer if user else {}
    response = httpx.get(stack.api("/registry/search"), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_register_find_update_delete(stack: Stack, people: dict[str, EmulatorUser]) -> None:
    owner, other, admin = people["owner"], people["other"], people["admin"]
    name = unique_name("QuantFlow")
    body = card(name)

    created = httpx.post(stack.api("/agents/register"), json=body, headers=owner.bearer)
    assert created.status_code == 201, created.text
    agent = created.json()
    agent_id = agent["id"]
    assert agent["status"] == "pending-vetting"
    assert agent["owner_uid"] == owner.uid

    prefix = name[:10].lower()
    assert name not in _search(stack, q=prefix), "anonymous search hides pending agents"
    assert name in _search(stack, owner, q=prefix, owner="me")
    assert httpx.get(stack.api(f"/agents/{agent_id}"), headers=other.bearer).status_code == 404
    assert httpx.get(stack.api(f"/agents/{agent_id}"), headers=admin.bearer).status_code == 200

    sneaky = httpx.patch(
        stack.api(f"/agents/{agent_id}"), json={"description": "mine now"}, headers=other.bearer
    )
    assert sneaky.status_code == 404
    assert httpx.delete(stack.api(f"/agents/{agent_id}"), headers=other.bearer).status_code == 404
    unchanged = httpx.get(stack.api(f"/agents/{agent_id}"), headers=owner.bearer).json()
    assert unchanged["card"]["description"] == body["description"]

    stack.set_status(agent_id, "vetted", "active")
    assert name in _search(stack, q=prefix)
    assert name in _search(stack, q=prefix.upper(), tool="black_scholes")
    manifest = httpx.get(stack.api(f"/agents/{agent_id}/manifest"))
    assert manifest.status_code == 200
    assert manifest.json()["name"] == name

    patched = httpx.patch(
        stack.api(f"/agents/{agent_id}"),
        json={"description": "Faster pricing"},
        headers=owner.bearer,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["card"]["description"] == "Faster pricing"
    for field, value in (("status", "active"), ("owner_uid", other.uid)):
        refused = httpx.patch(
            stack.api(f"/agents/{agent_id}"), json={field: value}, headers=owner.bearer
        )
        assert refused.status_code == 422, (field, refused.text)
    after = httpx.get(stack.api(f"/agents/{agent_id}"), headers=owner.bearer).json()
    assert (after["status"], after["owner_uid"]) == ("active", owner.uid)

    assert httpx.delete(stack.api(f"/agents/{agent_id}"), headers=owner.bearer).status_code == 204
    assert httpx.get(stack.api(f"/agents/{agent_id}"), headers=owner.bearer).status_code == 404
    assert name not in _search(stack, q=prefix)


def test_client_identity_headers_are_stripped(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    """A client claiming to be an admin, or another user, is still who its token says."""
    owner = people["owner"]
    created = httpx.post(
        stack.api("/agents/register"), json=card(unique_name()), headers=owner.bearer
    )
    agent_id = created.json()["id"]
    forged = {"X-User-ID": owner.uid, "X-User-Admin": "true", "X-User-Role": "user"}
    assert httpx.get(stack.api(f"/agents/{agent_id}"), headers=forged).status_code == 404
    as_other = {**people["other"].bearer, **forged}
    assert httpx.get(stack.api(f"/agents/{agent_id}"), headers=as_other).status_code == 404


def test_writes_need_a_token_and_bad_tokens_are_401(stack: Stack) -> None:
    response = httpx.post(stack.api("/agents/register"), json=card(unique_name()))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    for header in ("Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"):
        bad = httpx.get(stack.api("/registry/search"), headers={"Authorization": header})
        assert bad.status_code == 401, header
        assert "error" in bad.json()


def test_unknown_routes_and_methods_have_the_envelope(stack: Stack) -> None:
    missing = httpx.get(stack.api("/no/such/thing"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")
    wrong = httpx.put(stack.api("/agents/abc"))
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "DELETE, GET, PATCH"
    internal = httpx.get(stack.api("/auth/internal/whoami"))
    assert internal.status_code == 404


def test_the_public_openapi_document_covers_the_registry(stack: Stack) -> None:
    doc = httpx.get(stack.api("/openapi.json")).json()
    paths = doc["paths"]
    assert "post" in paths["/api/v1/agents/register"]
    assert "get" in paths["/api/v1/registry/search"]
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/agents/{agent_id}"])
    assert not [p for p in paths if "internal" in p or "healthz" in p]
    assert paths["/api/v1/registry/search"]["get"]["security"] == [{}, {"firebase": []}]


def test_cors_for_configured_origins_only(stack: Stack) -> None:
    spa = "https://app.agora.example"
    with stack.serve_gateway(cors_origins=(spa,)) as gateway:
        url = f"{gateway}/api/v1/registry/search"
        preflight = httpx.options(
            url,
            headers={
                "Origin": spa,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == spa
        simple = httpx.get(url, headers={"Origin": spa})
        assert simple.headers["access-control-allow-origin"] == spa
        assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()
        other = httpx.get(url, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
