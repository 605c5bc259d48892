"""Signed documents: a JSON document's RFC 8785 form, signed as a compact JWS with it attached.

For what the platform attests to on its own (scan receipts), as opposed to A2A cards, whose
signatures carry the payload detached (`agora_common.signing.cards`). Anyone holding the
document and the platform's JWKS can check it: the JWS's payload is the canonical JSON of the
document without its signature member, so it can be verified as it is, or rebuilt from the
document's fields and verified in its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from joserfc.util import urlsafe_b64encode

from agora_common.signing import CardSigner


def canonical_json(document: Mapping[str, Any], *, without: str) -> bytes:
    """The RFC 8785 (JCS) form of `document` without its `without` member."""
    return rfc8785.dumps({k: v for k, v in document.items() if k != without})


async def sign_attached(signer: CardSigner, payload: bytes, header: dict[str, Any]) -> str:
    """A compact JWS of `payload` with the payload in it: `<protected>.<payload>.<signature>`."""
    protected, _, signature = (await signer.sign(payload, header)).split(".")
    return f"{protected}.{urlsafe_b64encode(payload).decode()}.{signature}"
