"""Production's signing key: one version of a Cloud KMS `EC_SIGN_P256_SHA256` key.

The private key never leaves KMS: `sign` hashes the JWS signing input with SHA-256 and asks KMS
to sign the digest (AsymmetricSign), then turns KMS's DER ECDSA signature into JWS's raw r || s.
The public key (GetPublicKey) is read once and kept: a key version's public key never changes.
Every call has the dependency timeout and a hard ceiling, CRC32C checksums go both ways, and an
outage is a fast 503 `SIGNING_UNAVAILABLE`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from google.api_core import exceptions as google_errors
from google.cloud import kms
from joserfc.util import urlsafe_b64encode

from agora_common.kms import crc32c, kms_retry
from agora_common.signing import ALGORITHM, SigningUnavailable
from agora_common.signing.local import public_jwk

log = logging.getLogger("agora.signing")
_COORDINATE_BYTES = 32  # P-256


class KmsCardSigner:
    """A CardSigner over one KMS crypto key version (`.../cryptoKeyVersions/N`)."""

    def __init__(
        self, client: kms.KeyManagementServiceAsyncClient, key_version: str, *, timeout_s: float
    ) -> None:
        self._client = client
        self.key_version = key_version
        self._timeout_s = timeout_s
        self._retry = kms_retry(timeout_s)
        self._jwk: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def sign(self, payload: bytes, header: dict[str, Any] | None = None) -> str:
        jwk = await self._public_jwk()
        protected = {**(header or {}), "alg": ALGORITHM, "kid": jwk["kid"]}
        encoded = urlsafe_b64encode(json.dumps(protected, separators=(",", ":")).encode())
        signing_input = encoded + b"." + urlsafe_b64encode(payload)
        digest = hashlib.sha256(signing_input).digest()
        request = kms.AsymmetricSignRequest(
            name=self.key_version,
            digest=kms.Digest(sha256=digest),
            digest_crc32c=crc32c(digest),
        )
        response = await self._call(self._client.asymmetric_sign, request)
        der = bytes(response.signature)
        if not (
            response.verified_digest_crc32c
            and response.signature_crc32c == crc32c(der)
            and response.name == self.key_version
        ):
            raise SigningUnavailable("The key service answered a corrupted signature")
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
        return f"{encoded.decode()}..{urlsafe_b64encode(raw).decode()}"

    async def public_jwks(self) -> dict[str, Any]:
        return {"keys": [dict(await self._public_jwk())]}

    async def _public_jwk(self) -> dict[str, Any]:
        if self._jwk is not None:
            return self._jwk
        async with self._lock:
            if self._jwk is None:
                request = kms.GetPublicKeyRequest(name=self.key_version)
                response = await self._call(self._client.get_public_key, request)
                pem = response.pem.encode()
                if (
                    response.pem_crc32c != crc32c(pem)
                    or response.algorithm
                    != kms.CryptoKeyVersion.CryptoKeyVersionAlgorithm.EC_SIGN_P256_SHA256
                ):
                    raise SigningUnavailable("The key service answered an unusable public key")
                public = serialization.load_pem_public_key(pem)
                if not isinstance(public, ec.EllipticCurvePublicKey):
                    raise SigningUnavailable("The key service answered an unusable public key")
                self._jwk = public_jwk(public)
            return self._jwk

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout_s + 0.5):
                return await method(request=request, timeout=self._timeout_s, retry=self._retry)
        except (TimeoutError, google_errors.GoogleAPIError) as exc:
            log.warning("KMS signing call failed", extra={"error": type(exc).__name__})
            raise SigningUnavailable() from exc
