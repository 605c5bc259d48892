"""Scan receipts signed with the platform's key (local file and Cloud KMS through the gRPC
stand-in): the JWS verifies with joserfc and the published JWKS alone, its payload is the RFC 8785
form of the served receipt without `signed`, and a changed field does not verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from agora_common.signing import CardSigner
from agora_common.signing.local import LocalCardSigner
from agora_vetting.models import CheckResult, ScanReceipt
from agora_vetting.receipt_signing import RECEIPT_SIGNATURE_TYPE, receipt_payload, sign_receipt


def receipt(**overrides: Any) -> ScanReceipt:
    fields: dict[str, Any] = {
        "scan_id": "scan-a1-abc",
        "agent_id": "a1",
        "card_digest": "ab" * 32,
        "source_digest": "cd" * 32,
        "scope": ["card", "bandit"],
        "verdict": "findings",
        "checks": [
            CheckResult(name="card", status="ok", duration_ms=1.5),
            CheckResult(
                name="bandit",
                version="1.9.4",
                status="findings",
                findings=[{"rule_id": "B602", "severity": "high", "line": 3, "path": "é.py"}],
                duration_ms=812.0,
            ),
        ],
        "findings": [{"rule_id": "B602", "severity": "high", "line": 3, "path": "é.py"}],
        "requested_by": "submission",
        "scanned_at": datetime(2026, 12, 3, 6, 53, 12, 123456, tzinfo=UTC),
    }
    return ScanReceipt(**(fields | overrides))


def verify_served(served: dict[str, Any], jwks: dict[str, Any]) -> bytes:
    """What a third party does with the JSON it was served: rebuild the payload from the fields,
    put it in the JWS in place of the one it carries, and verify; the payload is returned."""
    protected, _, signature = served["signed"].split(".")
    payload = rfc8785.dumps({k: v for k, v in served.items() if k != "signed"})
    compact = f"{protected}.{urlsafe_b64encode(payload).decode()}.{signature}"
    jws.deserialize_compact(compact, KeySet.import_key_set(jwks), algorithms=["ES256"])
    return payload


async def test_a_signed_receipt_verifies_as_served_and_a_changed_verdict_does_not(
    signer: CardSigner,
) -> None:
    jwks = await signer.public_jwks()
    signed = await sign_receipt(signer, receipt())
    assert signed.model_dump(exclude={"signed"}) == receipt().model_dump(exclude={"signed"})
    served = json.loads(signed.model_dump_json())  # as the route answers it

    # The JWS as it is: attached payload, the platform's key, the receipt's `typ`.
    token = jws.deserialize_compact(
        served["signed"], KeySet.import_key_set(jwks), algorithms=["ES256"]
    )
    assert token.protected == {
        "alg": "ES256",
        "kid": jwks["keys"][0]["kid"],
        "typ": RECEIPT_SIGNATURE_TYPE,
    }
    # Its payload is the served receipt without `signed`, canonical, byte for byte.
    assert token.payload == verify_served(served, jwks) == receipt_payload(signed)
    assert json.loads(token.payload)["verdict"] == "findings"

    with pytest.raises(BadSignatureError):
        verify_served({**served, "verdict": "clean"}, jwks)
    with pytest.raises(BadSignatureError):
        verify_served({**served, "findings": []}, jwks)


async def test_the_signature_survives_the_store_and_covers_no_earlier_one(tmp_path: Path) -> None:
    """Stored as the repository stores it and read back, the receipt still verifies; signing
    again replaces the signature rather than signing it."""
    signer = LocalCardSigner(tmp_path / "card-signing.pem")
    jwks = await signer.public_jwks()
    signed = await sign_receipt(signer, receipt())
    stored = ScanReceipt.model_validate(signed.model_dump(mode="python"))
    verify_served(json.loads(stored.model_dump_json()), jwks)

    again = await sign_receipt(signer, stored)
    payload = urlsafe_b64decode(again.signed.split(".")[1].encode()) if again.signed else b""
    assert "signed" not in json.loads(payload)


def test_a_receipt_stored_before_signing_reads_and_serves_unsigned() -> None:
    old = receipt().model_dump(mode="python", exclude={"signed"})
    assert "signed" not in old
    assert ScanReceipt.model_validate(old).signed is None
