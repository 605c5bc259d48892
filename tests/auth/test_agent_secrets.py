"""Agents' signing secrets: issued and read by the executor alone, sealed at rest."""

from __future__ import annotations

import pytest

from tests.auth.conftest import AuthApp, user

pytestmark = pytest.mark.integration


async def issue_and_promote(auth: AuthApp, agent_id: str) -> str:
    issued = await auth.call(
        "POST", f"/internal/agent-secrets/{agent_id}", None, service="executor"
    )
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    promoted = await auth.call(
        "POST", f"/internal/agent-secrets/{agent_id}/promote", None, service="executor"
    )
    assert promoted.status_code == 204, promoted.text
    return str(issued.json()["secret"])


async def read(auth: AuthApp, agent_id: str) -> dict[str, object]:
    response = await auth.call(
        "GET", f"/internal/agent-secrets/{agent_id}", None, service="executor"
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_executor_issues_and_reads_a_secret_sealed_at_rest(auth: AuthApp) -> None:
    secret = await issue_and_promote(auth, "agent-1")
    assert len(secret) >= 32
    assert await read(auth, "agent-1") == {
        "agent_id": "agent-1",
        "secret": secret,
        "previous": None,
    }
    stored = (await auth.db.collection("agent_secrets").document("agent-1").get()).to_dict()
    assert stored is not None
    assert secret not in repr(stored)
    assert secret.encode() not in stored["current"]["ciphertext"]


async def test_a_deploy_swaps_secrets_only_when_promoted(auth: AuthApp) -> None:
    first = await issue_and_promote(auth, "agent-2")
    pending = await auth.call("POST", "/internal/agent-secrets/agent-2", None, service="executor")
    # A deploy under way (or failed): the running agent's secret is still the one to sign with.
    assert (await read(auth, "agent-2"))["secret"] == first
    await auth.call("POST", "/internal/agent-secrets/agent-2/promote", None, service="executor")
    assert await read(auth, "agent-2") == {
        "agent_id": "agent-2",
        "secret": pending.json()["secret"],
        "previous": first,
    }
    again = await auth.call(
        "POST", "/internal/agent-secrets/agent-2/promote", None, service="executor"
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "NO_PENDING_SECRET"


async def test_a_secret_moved_to_another_agent_does_not_open(auth: AuthApp) -> None:
    await issue_and_promote(auth, "agent-a")
    copied = (await auth.db.collection("agent_secrets").document("agent-a").get()).to_dict()
    assert copied is not None
    await auth.db.collection("agent_secrets").document("agent-b").set(copied)
    response = await auth.call("GET", "/internal/agent-secrets/agent-b", None, service="executor")
    assert response.status_code == 500
    assert "secret" not in response.json()


@pytest.mark.parametrize(
    ("service", "as_user", "expected"),
    [
        ("gateway", None, 403),
        ("gateway", user(admin=True), 403),
        ("registry", None, 403),
        ("vetting", None, 403),
        ("tool", None, 403),  # may read provider keys, never agents' signing secrets
        (None, None, 401),
    ],
)
async def test_nobody_else_reaches_agent_secrets(
    auth: AuthApp, service: str | None, as_user: object, expected: int
) -> None:
    await issue_and_promote(auth, "agent-x")
    for method in ("GET", "POST"):
        response = await auth.call(
            method, "/internal/agent-secrets/agent-x", as_user, service=service
        )
        assert response.status_code == expected, (method, response.text)
        assert "secret" not in response.json()


async def test_an_agent_without_a_secret_is_404(auth: AuthApp) -> None:
    response = await auth.call("GET", "/internal/agent-secrets/never", None, service="executor")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "AGENT_SECRET_NOT_FOUND"
