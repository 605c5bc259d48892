"""Incoming service-to-service calls: verify the caller's ID token and check the allowlist."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
import jwt
from fastapi import Depends, Request

from agora_common.cache import ExpiringCache
from agora_common.errors import Forbidden, ServiceUnavailable, Unauthenticated

log = logging.getLogger("agora.iam")

_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# Refetch keys on an unknown `kid` at most this often, so junk tokens cannot hammer the endpoint.
_MIN_REFRESH_INTERVAL_S = 30.0
_DEFAULT_KEYS_TTL_S = 3600.0
_LEEWAY_S = 30
_MAX_TOKEN_BYTES = 8192


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    """The verified caller of an internal route."""

    email: str
    subject: str
    audience: str


class JwksCache:
    """Public keys by `kid` from a JWKS URL (https, or file:// for the local dev signer)."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self._http = http
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any | None:
        now = time.monotonic()
        if now >= self._expires_at or (
            kid not in self._keys and now - self._fetched_at >= _MIN_REFRESH_INTERVAL_S
        ):
            await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < 1.0:
                return  # another request refreshed (or failed to) while this one waited
            try:
                document, ttl = await self._load()
                keys = _rsa_keys(document)
            except (httpx.HTTPError, OSError, ValueError, TypeError, jwt.PyJWTError) as exc:
                log.warning("could not load token keys", extra={"error": repr(exc)})
                # Back off: without this every request with a new token would refetch in turn.
                self._fetched_at = time.monotonic()
                self._expires_at = self._fetched_at + _MIN_REFRESH_INTERVAL_S
                if not self._keys:
                    raise ServiceUnavailable("token keys are unavailable") from exc
                return  # keep serving with the keys we have
            self._keys = keys
            self._fetched_at = time.monotonic()
            self._expires_at = self._fetched_at + ttl

    async def _load(self) -> tuple[Any, float]:
        parts = urlsplit(self.url)
        if parts.scheme == "file":
            text = await asyncio.to_thread(Path(url2pathname(parts.path)).read_text)
            return json.loads(text), 60.0
        response = await self._http.get(self.url, timeout=5.0)
        response.raise_for_status()
        return response.json(), _max_age(response.headers.get("cache-control"))


def _max_age(cache_control: str | None) -> float:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            return max(60.0, float(value))
    return _DEFAULT_KEYS_TTL_S


def _rsa_keys(document: Any) -> dict[str, Any]:
    """The RSA keys of a JWKS document by kid; anything malformed is a ValueError or TypeError."""
    if not isinstance(document, dict) or not isinstance(document.get("keys", []), list):
        raise ValueError("not a JWKS document")
    return {
        jwk["kid"]: jwt.PyJWK(jwk).key
        for jwk in document.get("keys", [])
        if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and isinstance(jwk.get("kid"), str)
    }


class ServiceTokenVerifier:
    """Signature, audience, expiry, issuer, then the caller's email against the allowlist."""

    def __init__(
        self,
        keys: JwksCache,
        *,
        audiences: Iterable[str],
        issuers: Iterable[str],
        allowed_emails: Iterable[str],
    ) -> None:
        self.keys = keys
        self.audiences = [a.rstrip("/") for a in audiences]
        self.issuers = list(issuers)
        self.allowed_emails = frozenset(allowed_emails)
        self._verified: ExpiringCache[ServiceIdentity] = ExpiringCache(1024)

    async def verify(self, token: str) -> ServiceIdentity:
        if len(token) > _MAX_TOKEN_BYTES:
            raise Unauthenticated("Service token is too long", headers=_BEARER_CHALLENGE)
        cache_key = hashlib.sha256(token.encode()).hexdigest()
        identity = self._verified.get(cache_key)
        if identity is None:
            identity, expires_at = await self._verify_signed(token)
            self._verified.put(cache_key, identity, expires_at)
        if identity.email not in self.allowed_emails:
            raise Forbidden("This caller may not use this service", code="CALLER_NOT_ALLOWED")
        return identity

    async def _verify_signed(self, token: str) -> tuple[ServiceIdentity, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("Malformed service token", headers=_BEARER_CHALLENGE) from None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Unauthenticated("Unsupported service token", headers=_BEARER_CHALLENGE)
        key = await self.keys.key(header["kid"])
        if key is None:
            raise Unauthenticated("Unknown service token key", headers=_BEARER_CHALLENGE)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuers,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(
                f"Invalid service token: {_reason(exc)}", headers=_BEARER_CHALLENGE
            ) from None
        if claims["iat"] > time.time() + _LEEWAY_S:
            raise Unauthenticated("Service token issued in the future", headers=_BEARER_CHALLENGE)
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            raise Unauthenticated("Service token has no verified email", headers=_BEARER_CHALLENGE)
        audience = claims["aud"] if isinstance(claims["aud"], str) else claims["aud"][0]
        return ServiceIdentity(email, str(claims["sub"]), audience), float(claims["exp"])


def _reason(exc: jwt.InvalidTokenError) -> str:
    """A fixed reason per failure class; the token's content is never echoed back."""
    reasons: list[tuple[type[jwt.InvalidTokenError], str]] = [
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidSignatureError, "bad signature"),
        (jwt.ImmatureSignatureError, "not yet valid"),
        (jwt.MissingRequiredClaimError, "missing claim"),
    ]
    for cls, reason in reasons:
        if isinstance(exc, cls):
            return reason
    return "malformed"


async def service_caller(request: Request) -> ServiceIdentity:
    """FastAPI dependency for internal routes: the verified, allowlisted calling service."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A service token is required", headers=_BEARER_CHALLENGE)
    verifier: ServiceTokenVerifier = request.app.state.resources.verifier
    return await verifier.verify(token.strip())


ServiceCaller = Annotated[ServiceIdentity, Depends(service_caller)]
