"""The platform's signing key behind one interface: `CardSigner` (sign bytes, publish the JWKS).

Two keepers: `LocalCardSigner` on an EC P-256 key file (local mode, made on first use) and
`KmsCardSigner` on a Cloud KMS asymmetric key (`EC_SIGN_P256_SHA256`). Both sign ES256 and answer
a JWS in compact form with a detached payload (`<protected>..<signature>`, RFC 7515 appendix F),
which is what an A2A AgentCard's `signatures` entry carries. `open_card_signer` picks the one the
settings name.
"""

from __future__ import annotations

from typing import Any, Protocol

from agora_common.errors import ServiceUnavailable

ALGORITHM = "ES256"
# The `typ` of a card signature's protected header.
CARD_SIGNATURE_TYPE = "JOSE"


class SigningUnavailable(ServiceUnavailable):
    code, message = "SIGNING_UNAVAILABLE", "The platform's signing key is unavailable"


class CardSigner(Protocol):
    """What signs for the platform: ES256, one key id, its public keys as a JWKS."""

    async def sign(self, payload: bytes, header: dict[str, Any] | None = None) -> str:
        """A compact JWS of `payload` with the payload detached: `<protected>..<signature>`.

        The protected header is `{"alg": "ES256", "kid": <kid>}` plus `header` (e.g. `typ`).
        """
        ...

    async def public_jwks(self) -> dict[str, Any]:
        """`{"keys": [...]}`: the public keys that verify what this signer signs."""
        ...
