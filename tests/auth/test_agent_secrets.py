"""Agents' signing secrets: issued and read by the executor alone, sealed at rest."""

from __future__ import annotations

import pytest

from tests.auth.conftest import AuthApp, user

pytestmark = pytest.mark.integration


async def test_the_executor_issues_and_reads_a_secret_sealed_at_rest(auth: AuthApp) -> None:
    issued = await auth.call("POST", "/internal/agent-secrets/agent-1", None, service="executor")
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    secret = issued.json()["secret"]
    assert len(secret) >= 32
    read = await auth.call("GET", "/internal/agent-secrets/agent-1", None, service="executor")
    assert read.json() == {"agent_id": "agent-1", "secret": secret}

    stored = (await auth.db.collection("agent_secrets").document("agent-1").get()).to_dict()
    assert stored is not None
    assert secret not in repr(stored)
    assert secret.encode() not in stored["ciphertext"]

    again = await auth.call("POST", "/internal/agent-secrets/agent-1", None, service="executor")
    assert again.json()["secret"] != secret, "a redeploy gets a new secret"


async def test_a_secret_moved_to_another_agent_does_not_open(auth: AuthApp) -> None:
    await auth.call("POST", "/internal/agent-secrets/agent-a", None, service="executor")
    copied = (await auth.db.collection("agent_secrets").document("agent-a").get()).to_dict()
    assert copied is not None
    await auth.db.collection("agent_secrets").document("agent-b").set(copied)
    read = await auth.call("GET", "/internal/agent-secrets/agent-b", None, service="executor")
    assert read.status_code == 500
    assert "secret" not in read.json()


@pytest.mark.parametrize(
    ("service", "as_user", "expected"),
    [
        ("gateway", None, 403),
        ("gateway", user(admin=True), 403),
        ("registry", None, 403),
        ("vetting", None, 403),
        (None, None, 401),
    ],
)
async def test_nobody_else_reaches_agent_secrets(
    auth: AuthApp, service: str | None, as_user: object, expected: int
) -> None:
    await auth.call("POST", "/internal/agent-secrets/agent-x", None, service="executor")
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
