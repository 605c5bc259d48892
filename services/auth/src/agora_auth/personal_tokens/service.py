"""The rules of personal tokens: made for their owner alone, stored as a hash, checked for the
gateway.

A token is `agora_pat_` + 32 random bytes from `secrets` (URL-safe base64). Only the SHA-256 of
the whole token is stored. A fast unsalted hash is enough here, unlike for passwords: the
secret has 256 bits of entropy, so there is no dictionary to try and no brute force that a
slow hash (bcrypt, argon2) would make harder; and it lets a token be found by its hash in one
indexed query. Nobody, the platform included, can recover a token from what is stored.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agora_auth.personal_tokens.models import (
    DISPLAY_PREFIX_LENGTH,
    MAX_TOKEN_LENGTH,
    TOKEN_PREFIX,
    CreatedToken,
    StoredToken,
    TokenGrant,
    TokenRequest,
    TokenView,
)
from agora_auth.personal_tokens.repository import PersonalTokenRepository, TooManyTokens
from agora_common.audit import Actor, AuditLog
from agora_common.errors import Conflict, NotFound, Unauthenticated
from agora_common.models import UserIdentity

log = logging.getLogger("agora.auth.personal_tokens")
# Live (unexpired) tokens one user may hold at a time.
MAX_LIVE_TOKENS = 20
# What one user's list reads at most: live ones plus expired ones not yet cleaned up.
_MAX_LISTED = 200
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="agora"'}


class TokenNotFound(NotFound):
    code, message = "TOKEN_NOT_FOUND", "No such personal token"


class TooManyPersonalTokens(Conflict):
    code = "TOO_MANY_TOKENS"
    message = f"At most {MAX_LIVE_TOKENS} live personal tokens per user; revoke one first"


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refused(message: str, code: str = "INVALID_TOKEN") -> Unauthenticated:
    return Unauthenticated(message, code=code, headers=_CHALLENGE)


class PersonalTokenService:
    def __init__(
        self,
        repository: PersonalTokenRepository,
        audit: AuditLog,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._repo = repository
        self._audit = audit
        self._clock = clock

    async def create(self, user: UserIdentity, request: TokenRequest) -> CreatedToken:
        assert user.uid is not None
        now = self._clock()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        stored = StoredToken(
            token_id=secrets.token_hex(10),
            uid=user.uid,
            email=user.email,
            name=request.name,
            prefix=token[:DISPLAY_PREFIX_LENGTH],
            secret_sha256=token_hash(token),
            scope=request.scope,
            created_at=now,
            expires_at=now + timedelta(days=request.expires_in_days),
            monthly_spend_limit_usd=request.monthly_spend_limit_usd,
        )
        try:
            await self._repo.create_within(stored, live_limit=MAX_LIVE_TOKENS, now=now)
        except TooManyTokens:
            raise TooManyPersonalTokens() from None
        await self._audit.record(
            "personal_token.create",
            Actor.user(user),
            {"uid": user.uid, "token_id": stored.token_id},
            {"scope": stored.scope.value, "expires_at": stored.expires_at.isoformat()},
        )
        log.info("personal token created", extra={"uid": user.uid, "token_id": stored.token_id})
        return CreatedToken(**stored.view().model_dump(), token=token)

    async def list(self, uid: str) -> list[TokenView]:
        """The user's unexpired tokens, newest first."""
        now = self._clock()
        held = await self._repo.of_user(uid, limit=_MAX_LISTED)
        live = [token for token in held if token.expires_at > now]
        return [token.view() for token in sorted(live, key=lambda t: t.created_at, reverse=True)]

    async def revoke(self, user: UserIdentity, token_id: str) -> None:
        """Delete one of the caller's own tokens; anyone else's is as if it did not exist."""
        stored = await self._repo.get(token_id)
        if stored is None or stored.uid != user.uid:
            raise TokenNotFound()
        await self._repo.delete(token_id)
        await self._audit.record(
            "personal_token.revoke", Actor.user(user), {"uid": stored.uid, "token_id": token_id}
        )
        log.info("personal token revoked", extra={"uid": stored.uid, "token_id": token_id})

    async def check(self, token: str) -> TokenGrant:
        """Who the token speaks for (the gateway's question); 401 for anything but a live one."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            raise _refused("Not a personal API token")
        stored = await self._repo.by_hash(token_hash(token))
        if stored is None:  # never issued, or revoked (deleted)
            raise _refused("Unknown or revoked personal API token")
        now = self._clock()
        if stored.expires_at <= now:
            raise _refused("The personal API token has expired", "TOKEN_EXPIRED")
        if stored.last_used_at is None or now - stored.last_used_at >= LAST_USED_RESOLUTION:
            await self._mark_used(stored.token_id, now)
        return TokenGrant(
            uid=stored.uid,
            email=stored.email,
            token_id=stored.token_id,
            scope=stored.scope,
            expires_at=stored.expires_at,
            monthly_spend_limit_usd=stored.monthly_spend_limit_usd,
        )

    async def _mark_used(self, token_id: str, now: datetime) -> None:
        """Best effort: a missed `last_used_at` write must not refuse a valid token."""
        try:
            await self._repo.used(token_id, now)
        except Exception as exc:
            log.warning(
                "last use not recorded", extra={"token_id": token_id, "error": type(exc).__name__}
            )
