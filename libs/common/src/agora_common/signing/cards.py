"""A2A AgentCard signatures (A2A §8.4): sign a card, and check the signatures a card carries.

What is signed is the RFC 8785 canonical JSON of the card without its `signatures` member; the
signature is a JWS with that payload detached, carried as `{"protected", "signature"}`. Only the
platform's own keys are trusted: a signature under any other `kid` is recorded as unverified
(unknown key) and no key URL of the card (`jku`, `x5u`) is ever fetched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from agora_common.models.signatures import CardSignatureCheck, SignatureResult
from agora_common.signing import ALGORITHM, CARD_SIGNATURE_TYPE, CardSigner

# A card carries at most this many signatures, each part at most this long: bounded input.
MAX_SIGNATURES = 8
MAX_PROTECTED_CHARS = 2048
MAX_SIGNATURE_CHARS = 1024


def card_payload(card: Mapping[str, Any]) -> bytes:
    """The bytes a card's signatures cover: its RFC 8785 form without `signatures`."""
    return rfc8785.dumps({k: v for k, v in card.items() if k != "signatures"})


async def sign_card(signer: CardSigner, card: Mapping[str, Any]) -> dict[str, Any]:
    """The card with one platform signature in `signatures` (any earlier ones replaced)."""
    compact = await signer.sign(card_payload(card), {"typ": CARD_SIGNATURE_TYPE})
    protected, _, signature = compact.split(".")
    unsigned = {k: v for k, v in card.items() if k != "signatures"}
    return {**unsigned, "signatures": [{"protected": protected, "signature": signature}]}


def check_card_signatures(
    card: Mapping[str, Any], jwks: Mapping[str, Any], *, now: datetime | None = None
) -> CardSignatureCheck | None:
    """Each signature of `card` checked against the platform's `jwks`; None if it has none."""
    signatures = card.get("signatures")
    if signatures is None or signatures == []:
        return None
    entries = signatures if isinstance(signatures, list) else [signatures]
    keys = KeySet.import_key_set({"keys": list(jwks.get("keys", []))})
    own = {key.kid for key in keys.keys if key.kid}
    payload = card_payload(card)
    results = [
        _check(entry, index, payload, keys, own)
        for index, entry in enumerate(entries[:MAX_SIGNATURES])
    ]
    results += [
        SignatureResult(index=i, result="invalid", reason="more signatures than are checked")
        for i in range(MAX_SIGNATURES, len(entries))
    ]
    return CardSignatureCheck.of(results, now or datetime.now(UTC))


def _check(entry: Any, index: int, payload: bytes, keys: KeySet, own: set[str]) -> SignatureResult:
    if not isinstance(entry, Mapping):
        return SignatureResult(index=index, result="invalid", reason="not an object")
    protected, signature = entry.get("protected"), entry.get("signature")
    if not (
        isinstance(protected, str)
        and isinstance(signature, str)
        and 0 < len(protected) <= MAX_PROTECTED_CHARS
        and 0 < len(signature) <= MAX_SIGNATURE_CHARS
    ):
        return SignatureResult(index=index, result="invalid", reason="protected/signature")
    try:
        header = json.loads(urlsafe_b64decode(protected.encode("ascii")))
    except (ValueError, UnicodeError):
        return SignatureResult(index=index, result="invalid", reason="unreadable protected header")
    if not isinstance(header, dict):
        return SignatureResult(index=index, result="invalid", reason="unreadable protected header")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    kid = kid[:128] if kid else None
    if kid is None or kid not in own:
        return SignatureResult(index=index, kid=kid, result="unknown_key")
    if header.get("alg") != ALGORITHM:
        return SignatureResult(index=index, kid=kid, result="failed", reason="algorithm")
    compact = f"{protected}.{urlsafe_b64encode(payload).decode()}.{signature}"
    try:
        jws.deserialize_compact(compact, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return SignatureResult(index=index, kid=kid, result="failed", reason="does not verify")
    return SignatureResult(index=index, kid=kid, result="verified")
