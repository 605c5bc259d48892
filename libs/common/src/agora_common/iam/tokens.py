"""Outgoing ID tokens: Google's metadata server on Cloud Run, an RS256 dev signer locally."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from agora_common.settings import LOCAL_DEV_ISSUER, Environment, ServiceSettings

# Refresh a cached token this long before it expires, so no call carries a nearly-dead token.
REFRESH_MARGIN_S = 300.0


class DevSignerRefused(RuntimeError):
    """The development signer must never run on Cloud Run or in production mode."""


class TokenSource(Protocol):
    async def token(self, audience: str) -> str: ...


class _CachingSource:
    """Caches one token per audience until shortly before it expires; one fetch at a time."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, audience: str) -> str:
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - REFRESH_MARGIN_S > time.time():
            return cached[0]
        lock = self._locks.setdefault(audience, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(audience)
            if cached is not None and cached[1] - REFRESH_MARGIN_S > time.time():
                return cached[0]
            token = await self._fetch(audience)
            claims = jwt.decode(token, options={"verify_signature": False})
            self._tokens[audience] = (token, float(claims["exp"]))
            return token

    async def _fetch(self, audience: str) -> str:
        raise NotImplementedError


class GoogleIdTokenSource(_CachingSource):
    """ID tokens from google-auth (the metadata server on Cloud Run), fetched off the event loop."""

    async def _fetch(self, audience: str) -> str:
        import google.auth.transport.requests
        import google.oauth2.id_token

        def fetch() -> str:
            request = google.auth.transport.requests.Request()
            return str(google.oauth2.id_token.fetch_id_token(request, audience))  # type: ignore[no-untyped-call]

        return await asyncio.to_thread(fetch)


class DevSigner(_CachingSource):
    """Signs RS256 ID tokens with a key made for the local run; refuses to exist elsewhere."""

    def __init__(
        self,
        private_key_pem: bytes,
        *,
        email: str,
        environment: Environment,
        issuer: str = LOCAL_DEV_ISSUER,
        ttl_s: int = 3600,
    ) -> None:
        if os.environ.get("K_SERVICE"):
            raise DevSignerRefused("the development signer refuses to run on Cloud Run")
        if environment is not Environment.LOCAL:
            raise DevSignerRefused("the development signer runs only in local mode")
        super().__init__()
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the development signer needs an RSA key")
        self._key = key
        self.email = email
        self.issuer = issuer
        self.ttl_s = ttl_s
        self.kid = key_id(key.public_key())

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DevSigner:
        if settings.iam_dev_key_file is None:
            raise DevSignerRefused("no development key file is configured")
        return cls(
            settings.iam_dev_key_file.read_bytes(),
            email=settings.identity_email,
            environment=settings.env,
        )

    def sign(self, audience: str, *, now: float | None = None, **overrides: Any) -> str:
        """A Google-shaped ID token for `audience` (claims overridable, for tests)."""
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": self.email,
            "email": self.email,
            "email_verified": True,
            "iat": issued,
            "exp": issued + self.ttl_s,
        }
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    async def _fetch(self, audience: str) -> str:
        return self.sign(audience)

    def jwks(self) -> dict[str, Any]:
        return jwks_for(self._key.public_key())


def key_id(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def jwks_for(public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(public_key))
    jwk.update({"kid": key_id(public_key), "alg": "RS256", "use": "sig"})
    return {"keys": [jwk]}


def generate_dev_key(key_file: Path) -> Path:
    """Make (once) the local RS256 key and publish its JWKS beside it; returns the JWKS path."""
    jwks_file = key_file.with_name("jwks.json")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    jwks_file.write_text(json.dumps(jwks_for(private.public_key())))
    return jwks_file


def token_source_for(settings: ServiceSettings) -> TokenSource:
    """The dev signer when a local key is configured, otherwise Google's ID tokens."""
    if settings.iam_dev_key_file is not None:
        return DevSigner.from_settings(settings)
    return GoogleIdTokenSource()
