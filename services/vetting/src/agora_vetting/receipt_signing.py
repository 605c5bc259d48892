"""Scan receipts signed with the platform's key, so anyone can check what a scan recorded.

A receipt's `signed` is a compact JWS (RFC 7515 §7.1, payload attached) of the RFC 8785 canonical
JSON of the receipt's other fields, in the form the API serves them; the protected header is
`{"alg": "ES256", "kid": <the key's RFC 7638 thumbprint>, "typ": "agora-scan-receipt+jws"}`. The
key is the one A2A cards are signed with (`agora_common.signing`), published at the gateway's
`/.well-known/jwks.json`. Receipts are signed when they are stored, so the signature attests what
was recorded at scan time, not what a later read found.
"""

from __future__ import annotations

from agora_common.signing import CardSigner
from agora_common.signing.documents import canonical_json, sign_attached
from agora_vetting.models import ScanReceipt

RECEIPT_SIGNATURE_TYPE = "agora-scan-receipt+jws"
SIGNATURE_FIELD = "signed"


def receipt_payload(receipt: ScanReceipt) -> bytes:
    """The bytes a receipt's signature covers: its served JSON, without `signed`, in RFC 8785."""
    return canonical_json(receipt.model_dump(mode="json"), without=SIGNATURE_FIELD)


async def sign_receipt(signer: CardSigner, receipt: ScanReceipt) -> ScanReceipt:
    """The receipt with `signed` set (any earlier signature replaced)."""
    header = {"typ": RECEIPT_SIGNATURE_TYPE}
    signed = await sign_attached(signer, receipt_payload(receipt), header)
    return receipt.model_copy(update={SIGNATURE_FIELD: signed})
