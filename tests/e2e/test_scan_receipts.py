"""Signed scan receipts through the public API: a real receipt, from a scan that ran by itself,
verifies with joserfc, rfc8785 and the gateway's JWKS alone; a changed verdict does not."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import rfc8785
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64encode

from tests.e2e.conftest import Stack
from tests.e2e.test_execute import call
from tests.e2e.test_vetting import latest_scan, register
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def verify_receipt(receipt: dict[str, Any], jwks: dict[str, Any]) -> dict[str, Any]:
    """As a third party: the RFC 8785 form of the receipt without `signed` is the JWS's payload;
    verify the JWS with it in place, and answer the protected header."""
    protected, _, signature = receipt["signed"].split(".")
    payload = rfc8785.dumps({k: v for k, v in receipt.items() if k != "signed"})
    compact = f"{protected}.{urlsafe_b64encode(payload).decode()}.{signature}"
    token = jws.deserialize_compact(compact, KeySet.import_key_set(jwks), algorithms=["ES256"])
    return dict(token.protected)


def test_a_real_receipt_verifies_with_the_gateways_jwks_and_a_changed_verdict_does_not(
    stack: Stack,
) -> None:
    stack.place_source("genesis")
    owner = stack.auth.sign_up(name="receipt-owner")
    admin = stack.auth.sign_up(name="receipt-admin", admin=True)
    agent_id = register(stack, owner)
    receipt = eventually(lambda: latest_scan(stack, admin, agent_id), seconds=180)
    assert receipt, "no scan ran by itself"
    assert receipt["verdict"] == "clean", receipt
    # The owner is served the same receipt, signature and all.
    assert call(stack, "GET", f"/vetting/{agent_id}/scan", owner).json() == receipt

    response = httpx.get(f"{stack.gateway}/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200, response.text
    jwks = response.json()
    header = verify_receipt(receipt, jwks)
    assert header["typ"] == "agora-scan-receipt+jws"
    assert header["alg"] == "ES256"
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    # The JWS carries the same payload: verified as it is, it says what the fields say.
    token = jws.deserialize_compact(
        receipt["signed"], KeySet.import_key_set(jwks), algorithms=["ES256"]
    )
    signed_fields = json.loads(token.payload)
    assert signed_fields == {k: v for k, v in receipt.items() if k != "signed"}
    assert (signed_fields["agent_id"], signed_fields["verdict"]) == (agent_id, "clean")
    assert {check["name"] for check in signed_fields["checks"]} >= {"card", "bandit", "semgrep"}

    with pytest.raises(BadSignatureError):
        verify_receipt({**receipt, "verdict": "findings"}, jwks)
