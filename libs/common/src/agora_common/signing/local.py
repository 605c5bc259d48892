"""Local mode's signing key: an EC P-256 private key in a PEM file (0600), made on first use.

Made the way the development signer's key is (`agora_common.iam.tokens.generate_dev_key`), but
race-free: the key is written to a temporary 0600 file and linked into place, so two services
starting at once (the registry signs, the gateway publishes the JWKS) keep one key. The file is
refused when others may read it, and never logged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from agora_common.signing import ALGORITHM


class SigningKeyFileError(RuntimeError):
    """The key file is unusable: unreadable, not an EC P-256 key, or readable by others."""


def ensure_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The key in `path`, generated once when the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    return read_signing_key(path)


def read_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyFileError(f"{path} is accessible by others: chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyFileError(
            f"cannot read the signing key file {path}: {type(exc).__name__}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningKeyFileError(f"{path} is not an EC P-256 private key")
    return key


def public_jwk(public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The public JWK, its `kid` the RFC 7638 thumbprint, for ES256 signatures."""
    key = ECKey.import_key(public)
    return dict(key.as_dict(private=False, kid=key.thumbprint(), alg=ALGORITHM, use="sig"))


class LocalCardSigner:
    """A CardSigner over the local key file."""

    def __init__(self, path: Path) -> None:
        private = ensure_signing_key(path)
        self._jwk = public_jwk(private.public_key())
        self._key = ECKey.import_key(private, {"kid": self._jwk["kid"]})

    async def sign(self, payload: bytes, header: dict[str, Any] | None = None) -> str:
        protected = {**(header or {}), "alg": ALGORITHM, "kid": self._jwk["kid"]}
        compact = jws.serialize_compact(protected, payload, self._key, algorithms=[ALGORITHM])
        return jws.detach_content(compact)

    async def public_jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}
