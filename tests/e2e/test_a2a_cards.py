"""A2A cards through the public API: an active agent's exported card verifies with a JOSE
library and the gateway's JWKS alone, a changed field does not, and an imported card whose
signature fails is recorded so and becomes a vetting finding."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import rfc8785
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64encode

from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import call
from tests.support.factories import card
from tests.support.firebase import EmulatorUser
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def verify_with_jose_only(a2a: dict[str, Any], jwks: dict[str, Any]) -> None:
    """A2A §8.4 as any verifier does it: the RFC 8785 form without `signatures`, reattached."""
    payload = rfc8785.dumps({k: v for k, v in a2a.items() if k != "signatures"})
    keys = KeySet.import_key_set(jwks)
    for signature in a2a["signatures"]:
        encoded = urlsafe_b64encode(payload).decode()
        compact = f"{signature['protected']}.{encoded}.{signature['signature']}"
        jws.deserialize_compact(compact, keys, algorithms=["ES256"])


def active_agent(stack: Stack, owner: EmulatorUser) -> str:
    response = call(stack, "POST", "/agents/register", owner, json=card(unique_name("Card")))
    assert response.status_code == 201, response.text
    agent_id = str(response.json()["id"])
    stack.set_status(agent_id, "vetted", "active")
    return agent_id


def gateway_jwks(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.gateway}/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("public, max-age=")
    jwks: dict[str, Any] = response.json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])
    return jwks


def test_an_exported_card_verifies_with_the_gateways_jwks_and_a_changed_one_does_not(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    agent_id = active_agent(stack, people["owner"])
    response = call(stack, "GET", f"/agents/{agent_id}/agent-card.json")  # anonymous
    assert response.status_code == 200, response.text
    exported = response.json()
    assert exported["supportedInterfaces"][0]["url"] == stack.api("/agents/execute")
    jwks = gateway_jwks(stack)
    verify_with_jose_only(exported, jwks)
    with pytest.raises(BadSignatureError):
        verify_with_jose_only({**exported, "description": "Something else"}, jwks)


def test_a_pending_agents_card_is_hidden_from_all_but_its_owner_and_admins(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    owner = people["owner"]
    response = call(stack, "POST", "/agents/register", owner, json=card(unique_name("Card")))
    path = f"/agents/{response.json()['id']}/agent-card.json"
    assert call(stack, "GET", path).status_code == 404
    assert call(stack, "GET", path, people["other"]).status_code == 404
    for who in (owner, people["admin"]):
        seen = call(stack, "GET", path, who)
        assert seen.status_code == 200, seen.text
        assert "signatures" not in seen.json()


def test_an_imported_card_with_a_bad_signature_is_recorded_failed_and_is_a_finding(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    agent_id = active_agent(stack, people["owner"])
    exported = call(stack, "GET", f"/agents/{agent_id}/agent-card.json").json()
    # Changed after signing: a new name (for its new owner) and its own endpoint.
    tampered = {
        **exported,
        "name": f"Tampered {secrets.token_hex(4)}",
        "supportedInterfaces": [{"url": "https://imported.example.com/a2a"}],
    }
    importer = stack.auth.sign_up(name="importer")
    response = call(stack, "POST", "/agents/register/a2a", importer, json=tampered)
    assert response.status_code == 201, response.text
    imported = response.json()
    assert imported["card_signatures"]["status"] == "failed"
    assert imported["card_signatures"]["signatures"][0]["result"] == "failed"

    admin = people["admin"]

    def receipt() -> dict[str, Any] | None:
        answer = call(stack, "GET", f"/vetting/{imported['id']}/scan", admin)
        return answer.json() if answer.status_code == 200 else None

    scanned = eventually(receipt, seconds=180)
    assert scanned, "no scan ran by itself"
    assert scanned["verdict"] == "findings", scanned
    (card_check,) = [c for c in scanned["checks"] if c["name"] == "card"]
    assert card_check["status"] == "findings"
    (finding,) = card_check["findings"]
    assert finding["path"] == "$.signatures[0]" and finding["severity"] == "high"
    assert finding in scanned["findings"]
