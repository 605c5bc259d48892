"""User records at the Auth backend: revocation status, and who a token names in emulator mode.

The emulator's ID tokens are unsigned, so anyone can write one with any claim. Locally the
verifier therefore trusts a token only for its uid, and takes that uid's existence, state,
email and custom claims from the emulator's user record (firebase-admin's `get_user`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (disabled, tokens valid after this epoch second)
UserStatus = tuple[bool, float]
UserStatusLookup = Callable[[str], Awaitable[UserStatus]]


@dataclass(frozen=True, slots=True)
class Account:
    """What the Auth backend's user record says about a uid."""

    uid: str
    disabled: bool
    valid_after: float  # tokens issued before this epoch second are revoked
    email: str | None = None
    email_verified: bool = False
    claims: Mapping[str, Any] = field(default_factory=dict)  # the custom claims


# None: no such user.
AccountLookup = Callable[[str], Awaitable[Account | None]]

# What the emulator writes into every token it mints; anything else is a custom claim.
_TOKEN_CLAIMS = frozenset(
    {"iss", "aud", "sub", "iat", "exp", "auth_time", "user_id", "firebase", "provider_id"}
)
# What the user record says better than the token: taken from the record only.
_PROFILE_CLAIMS = frozenset({"email", "email_verified", "name", "picture", "phone_number"})
# An agent's custom-token sign-in adds these. No user record holds them (in production either),
# and they can only narrow what a caller may do: an agent reaches fewer routes than a user.
_AGENT_CLAIMS = frozenset({"role", "agent_id", "owner_uid"})


def trusted_claims(token_claims: Mapping[str, Any], account: Account) -> dict[str, Any]:
    """The token's claims as far as its account vouches for them."""
    claims = {k: v for k, v in token_claims.items() if k in _TOKEN_CLAIMS}
    if account.email is not None:
        claims["email"] = account.email
        claims["email_verified"] = account.email_verified
    agent = token_claims.get("role") == "agent"
    for name, value in token_claims.items():
        if name in _TOKEN_CLAIMS or name in _PROFILE_CLAIMS:
            continue
        # A custom claim counts only while the record holds it too: a forged one never does,
        # and a granted one reaches the token when it is refreshed, as with signed tokens.
        recorded = name in account.claims and account.claims[name] == value
        if recorded or (agent and name in _AGENT_CLAIMS):
            claims[name] = value
    return claims


def firebase_admin_lookup(app: Any) -> UserStatusLookup:
    """A user lookup through firebase-admin (blocking, so run in a worker thread)."""
    from firebase_admin import auth

    async def lookup(uid: str) -> UserStatus:
        try:
            user = await asyncio.to_thread(auth.get_user, uid, app)
        except auth.UserNotFoundError:
            return True, float("inf")  # a deleted user's tokens are as good as revoked
        valid_after_ms = user.tokens_valid_after_timestamp or 0
        return bool(user.disabled), valid_after_ms / 1000.0

    return lookup


def firebase_admin_accounts(app: Any) -> AccountLookup:
    """Accounts through firebase-admin (blocking, so run in a worker thread)."""
    from firebase_admin import auth

    async def lookup(uid: str) -> Account | None:
        try:
            user = await asyncio.to_thread(auth.get_user, uid, app)
        except auth.UserNotFoundError:
            return None
        return Account(
            uid=user.uid,
            disabled=bool(user.disabled),
            valid_after=(user.tokens_valid_after_timestamp or 0) / 1000.0,
            email=user.email,
            email_verified=bool(user.email_verified),
            claims=dict(user.custom_claims or {}),
        )

    return lookup
