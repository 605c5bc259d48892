"""Personal API tokens (`Bearer agora_pat_...`) at the gateway: who they speak for, and the
routes their scope allows.

The auth service alone can tell a token's owner (it keeps the token's hash); the gateway asks
it (`POST /internal/tokens/verify`) and keeps the answer under the same rule as ID tokens'
revocation: at most `revocation_ttl_s` (and never past the token's own expiry), in a bounded
cache keyed by the token's hash. A revoked token is therefore refused within that TTL. The
owner's account is checked as an ID token's is for revocation (`ensure_enabled`, the same
cached lookup): a disabled user's tokens stop working too.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime
from typing import Final

from pydantic import BaseModel, ValidationError

from agora_common.cache import ExpiringCache
from agora_common.errors import Forbidden, ServiceUnavailable, Unauthenticated
from agora_common.firebase import FirebaseTokenVerifier
from agora_common.iam.client import ServiceClient
from agora_common.models.identity import CallerKind, TokenScope, UserIdentity
from agora_gateway.routing import SAFE_METHODS, Match

TOKEN_PREFIX: Final = "agora_pat_"  # noqa: S105 (the public prefix, no secret)
MAX_TOKEN_LENGTH: Final = 128
# The routes (pattern, method) an `execute` token may call beyond reads.
EXECUTE_ROUTES: Final = frozenset({("/agents/execute", "POST"), ("/mcp", "POST")})
# Upstream paths on the auth service no personal token may use, even to read: the admin routes
# and the tokens themselves (a token cannot list, mint or revoke tokens).
_AUTH_REFUSED: Final = ("/admin", "/tokens")
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="agora"'}


class _Grant(BaseModel):
    """The auth service's answer for a valid token."""

    uid: str
    email: str | None = None
    token_id: str
    scope: TokenScope
    expires_at: datetime
    monthly_spend_limit_usd: float | None = None


class PersonalTokens:
    def __init__(
        self,
        services: ServiceClient,
        accounts: FirebaseTokenVerifier,
        *,
        ttl_s: float,
        lookup_timeout_s: float = 3.0,
        cache_size: int = 10_000,
    ) -> None:
        self._services = services
        self._accounts = accounts
        self._ttl_s = ttl_s
        self._timeout_s = lookup_timeout_s
        self._grants: ExpiringCache[UserIdentity] = ExpiringCache(cache_size)

    async def identify(self, token: str) -> UserIdentity:
        """The token's owner as the identity to forward; 401 unless the token is live."""
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise Unauthenticated("Malformed personal API token", code="INVALID_TOKEN")
        key = hashlib.sha256(token.encode()).hexdigest()
        user = self._grants.get(key)
        if user is None:
            user, expires_at = await self._ask(token)
            if self._ttl_s > 0:
                self._grants.put(key, user, min(time.time() + self._ttl_s, expires_at))
        assert user.uid is not None
        await self._accounts.ensure_enabled(user.uid)
        return user

    async def _ask(self, token: str) -> tuple[UserIdentity, float]:
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._services.request(
                    "auth", "POST", "/internal/tokens/verify", json={"token": token}
                )
        except TimeoutError:
            raise ServiceUnavailable("Cannot check the personal token now") from None
        if response.status_code == 401:
            code = _error_code(response.content) or "INVALID_TOKEN"
            message = "Unknown, revoked or expired personal API token"
            raise Unauthenticated(message, code=code, headers=_CHALLENGE)
        if response.status_code != 200:
            raise ServiceUnavailable("Cannot check the personal token now")
        try:
            grant = _Grant.model_validate_json(response.content)
        except ValidationError:
            raise ServiceUnavailable("Cannot check the personal token now") from None
        user = UserIdentity(
            kind=CallerKind.USER,
            uid=grant.uid,
            email=grant.email,
            admin=False,  # a personal token never carries the admin role
            token_id=grant.token_id,
            token_scope=grant.scope,
            token_spend_limit_usd=grant.monthly_spend_limit_usd,
        )
        return user, grant.expires_at.timestamp()


def check_scope(user: UserIdentity, found: Match, method: str) -> None:
    """403 unless the token's scope allows this route: reads for `read`, and execution too for
    `execute`; never the admin routes or the token routes."""
    route = found.route
    if route.group == "admin" or (
        route.service == "auth" and found.upstream_path.startswith(_AUTH_REFUSED)
    ):
        raise Forbidden(
            "Personal API tokens cannot use this route; sign in",
            code="PERSONAL_TOKEN_NOT_ALLOWED",
        )
    if method in SAFE_METHODS:
        return
    if user.token_scope is TokenScope.EXECUTE and (route.pattern, method) in EXECUTE_ROUTES:
        return
    raise Forbidden(
        f"A {(user.token_scope or TokenScope.READ).value} token cannot {method} this route",
        code="INSUFFICIENT_SCOPE",
    )


class _Envelope(BaseModel):
    error: dict[str, object]


def _error_code(body: bytes) -> str | None:
    """The auth service's own code for a refused token, when it is one we pass on."""
    try:
        code = _Envelope.model_validate_json(body).error.get("code")
    except ValidationError:
        return None
    return code if code in ("INVALID_TOKEN", "TOKEN_EXPIRED") else None
