"""Firebase ID token verification: Google's keys in production, the Auth emulator locally."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import jwt

from agora_common.cache import ExpiringCache, ReadThrough
from agora_common.errors import ServiceUnavailable, Unauthenticated
from agora_common.firebase_accounts import Account, AccountLookup, trusted_claims
from agora_common.firebase_accounts import UserStatus as UserStatus
from agora_common.firebase_accounts import UserStatusLookup as UserStatusLookup
from agora_common.firebase_accounts import firebase_admin_accounts as firebase_admin_accounts
from agora_common.firebase_accounts import firebase_admin_lookup as firebase_admin_lookup
from agora_common.iam.verifier import JwksCache
from agora_common.models.identity import CallerKind, UserIdentity
from agora_common.settings import ServiceSettings

# Firebase publishes its ID-token signing keys as JWKS here (the same keys as its x509 endpoint).
FIREBASE_JWKS_URL = (
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
)
T = TypeVar("T")
MAX_UID_LENGTH = 128
MAX_EMAIL_LENGTH = 320
MAX_TOKEN_BYTES = 16_384
_LEEWAY_S = 5
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="agora"'}


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    uid: str
    email: str | None
    claims: dict[str, Any]
    expires_at: float
    auth_time: float
    # Built on first use and kept with the token, which is cached and read on every request.
    _identity: UserIdentity | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def admin(self) -> bool:
        return self.claims.get("admin") is True

    def identity(self) -> UserIdentity:
        identity = self._identity
        if identity is None:
            kind = CallerKind.AGENT if self.claims.get("role") == "agent" else CallerKind.USER
            identity = UserIdentity(kind=kind, uid=self.uid, email=self.email, admin=self.admin)
            object.__setattr__(self, "_identity", identity)  # frozen: set once, never changed
        return identity


def _invalid(message: str, code: str = "INVALID_TOKEN") -> Unauthenticated:
    return Unauthenticated(message, code=code, headers=_CHALLENGE)


# One fixed message per failure class: the token's content is never echoed back.
_REASONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.InvalidSignatureError, "ID token has an invalid signature"),
    (jwt.InvalidAudienceError, "ID token was issued for another project"),
    (jwt.InvalidIssuerError, "ID token has the wrong issuer"),
    (jwt.ImmatureSignatureError, "ID token was issued in the future"),
    (jwt.InvalidIssuedAtError, "ID token has an invalid iat"),
    (jwt.exceptions.InvalidSubjectError, "ID token has no valid subject"),
    (jwt.MissingRequiredClaimError, "ID token lacks a required claim"),
)


def _reason(exc: jwt.InvalidTokenError) -> str:
    for cls, message in _REASONS:
        if isinstance(exc, cls):
            return message
    return "ID token is invalid"


class FirebaseTokenVerifier:
    """Verifies ID tokens once, then serves them from a bounded cache until they expire.

    Revocation (and a disabled account) needs a user lookup at the Auth backend; callers ask for
    it where it matters (the gateway: on writes and admin calls), and one lookup per user is
    reused for `revocation_ttl_s`, so a revoked token keeps working there for at most that long.
    In emulator mode (`keys=None`) every token is also checked against its user's record
    (`accounts`, cached the same way): an unknown or disabled uid is 401, and the email and
    custom claims are the record's (`firebase_accounts.trusted_claims`).
    """

    def __init__(
        self,
        project_id: str,
        *,
        keys: JwksCache | None,
        lookup: UserStatusLookup | None = None,
        accounts: AccountLookup | None = None,
        lookup_timeout_s: float = 3.0,
        revocation_ttl_s: float = 30.0,
        cache_size: int = 10_000,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        # keys=None is emulator mode: its tokens are unsigned. Settings refuse it in production.
        if keys is None and accounts is None:
            raise ValueError("emulator mode needs the emulator's user records (accounts)")
        self.project_id = project_id
        self.issuer = f"https://securetoken.google.com/{project_id}"
        self.keys = keys
        self.lookup = lookup
        self.lookup_timeout_s = lookup_timeout_s
        self.revocation_ttl_s = revocation_ttl_s
        self._tokens: ExpiringCache[VerifiedToken] = ExpiringCache(cache_size)
        # One lookup per user at a time, refreshed ahead of expiry while the user is active.
        self._statuses: ReadThrough[UserStatus] = ReadThrough(
            self._lookup_status, ttl_s=revocation_ttl_s, max_entries=cache_size
        )
        self.accounts = accounts
        self._accounts: ReadThrough[Account | None] = ReadThrough(
            self._lookup_account, ttl_s=revocation_ttl_s, max_entries=cache_size
        )
        # Emulator mode: each token as its account vouched for it, rebuilt when the record changes.
        self._vouched: ExpiringCache[tuple[Account, VerifiedToken]] = ExpiringCache(cache_size)
        self._on_close = on_close

    def close(self) -> None:
        """Release what the lookup holds (firebase-admin's app)."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    async def verify(self, token: str, *, check_revoked: bool = False) -> VerifiedToken:
        if len(token) > MAX_TOKEN_BYTES:
            raise _invalid("ID token is too long")
        if not token.isascii():  # a JWT is ASCII; this also makes the length cap a byte cap
            raise _invalid("Malformed ID token")
        key = hashlib.blake2b(token.encode(), digest_size=20).hexdigest()
        verified = self._tokens.get(key)
        if verified is None:
            verified = await self._verify(token)
            self._tokens.put(key, verified, verified.expires_at)
        if self.accounts is not None:
            verified = await self._vouched_for(key, verified)
        if check_revoked:
            await self.ensure_not_revoked(verified)
        return verified

    async def _verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _invalid("Malformed ID token") from None
        options: Any = {"require": ["exp", "iat", "aud", "iss", "sub"]}
        if self.keys is None:
            key: Any = None
            algorithms = ["none", "RS256"]
            options.update(
                {"verify_signature": False, "verify_exp": True, "verify_iat": True}
                | {"verify_aud": True, "verify_iss": True}
            )
        else:
            if header.get("alg") != "RS256":
                raise _invalid("ID token must be RS256-signed")
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise _invalid("ID token has no key id")
            key = await self.keys.key(kid)
            if key is None:
                raise _invalid("ID token signed with an unknown key")
            algorithms = ["RS256"]
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.project_id,
                issuer=self.issuer,
                leeway=_LEEWAY_S,
                options=options,
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("ID token has expired", "TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError as exc:
            raise _invalid(_reason(exc)) from None
        return self._checked(claims)

    def _checked(self, claims: dict[str, Any]) -> VerifiedToken:
        now = time.time()
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _invalid("ID token has no valid subject")
        if len(sub) > MAX_UID_LENGTH:
            raise _invalid("ID token subject is too long")
        if not isinstance(claims["iat"], int | float):  # PyJWT lets a numeric string through
            raise _invalid("ID token has an invalid iat")
        if claims["iat"] > now + _LEEWAY_S:
            raise _invalid("ID token was issued in the future")
        auth_time = claims.get("auth_time", claims["iat"])
        if not isinstance(auth_time, int | float) or auth_time > now + _LEEWAY_S:
            raise _invalid("ID token has an invalid auth_time")
        email = claims.get("email")
        if email is not None and (not isinstance(email, str) or len(email) > MAX_EMAIL_LENGTH):
            raise _invalid("ID token has an invalid email")
        return VerifiedToken(
            uid=sub,
            email=email if isinstance(email, str) else None,
            claims=claims,
            expires_at=float(claims["exp"]),
            auth_time=float(auth_time),
        )

    async def _vouched_for(self, key: str, token: VerifiedToken) -> VerifiedToken:
        """The token with its account's email and claims; 401 for an unknown or disabled uid."""
        account = await self._accounts.get(token.uid)
        if account is None:
            raise _invalid("ID token names no account")
        if account.disabled:
            raise _invalid("This account is disabled", "USER_DISABLED")
        if token.admin and token.auth_time < account.valid_after:
            # Checked where the token claims admin, as production does: once the record no
            # longer holds the claim, a revoked admin token is 401, not silently a user's.
            raise _invalid("ID token has been revoked", "TOKEN_REVOKED")
        known = self._vouched.get(key)
        if known is not None and known[0] == account:
            return known[1]
        claims = trusted_claims(token.claims, account)
        vouched = VerifiedToken(
            uid=token.uid,
            email=account.email,
            claims=claims,
            expires_at=token.expires_at,
            auth_time=token.auth_time,
        )
        self._vouched.put(key, (account, vouched), token.expires_at)
        return vouched

    async def ensure_not_revoked(self, token: VerifiedToken) -> None:
        """401 when the user is disabled or the token predates a revocation (one lookup per
        user per `revocation_ttl_s`)."""
        disabled, valid_after = await self._status(token.uid)
        if disabled:
            raise _invalid("This account is disabled", "USER_DISABLED")
        if token.auth_time < valid_after:
            raise _invalid("ID token has been revoked", "TOKEN_REVOKED")

    async def ensure_enabled(self, uid: str) -> None:
        """401 when the account is disabled or gone, for callers that hold no ID token (a
        personal API token speaks for `uid`); the same cached lookup as `ensure_not_revoked`."""
        disabled, _ = await self._status(uid)  # a deleted account counts as disabled
        if disabled:
            raise _invalid("This account is disabled", "USER_DISABLED")

    async def _status(self, uid: str) -> UserStatus:
        if self.accounts is not None:  # emulator mode: the record already read for the claims
            account = await self._accounts.get(uid)
            if account is None:
                return True, float("inf")
            return account.disabled, account.valid_after
        if self.lookup is None:
            raise RuntimeError("revocation checks need a user lookup")
        return await self._statuses.get(uid)

    async def _lookup_account(self, uid: str) -> Account | None:
        assert self.accounts is not None
        return await self._bounded(self.accounts(uid), "account")

    async def _lookup_status(self, uid: str) -> UserStatus:
        assert self.lookup is not None
        return await self._bounded(self.lookup(uid), "revocation")

    async def _bounded(self, lookup: Awaitable[T], what: str) -> T:
        """One Auth lookup within the lookup timeout; slow or down is a fast, explicit 503."""
        try:
            async with asyncio.timeout(self.lookup_timeout_s):
                return await lookup
        except Exception as exc:
            raise ServiceUnavailable(f"Cannot check the token's {what} now") from exc


def token_verifier_for(
    settings: ServiceSettings,
    http: httpx.AsyncClient,
    *,
    revocation_ttl_s: float = 30.0,
    lookup_timeout_s: float = 3.0,
) -> FirebaseTokenVerifier:
    """Google's keys in production; locally the Auth emulator's unsigned tokens, each checked
    against its user's record there."""
    import firebase_admin

    app = firebase_app_for(settings)
    emulated = bool(settings.firebase_auth_emulator_host)
    return FirebaseTokenVerifier(
        settings.project_id,
        keys=None if emulated else JwksCache(FIREBASE_JWKS_URL, http),
        lookup=firebase_admin_lookup(app),
        accounts=firebase_admin_accounts(app) if emulated else None,
        lookup_timeout_s=lookup_timeout_s,
        revocation_ttl_s=revocation_ttl_s,
        on_close=lambda: firebase_admin.delete_app(app),
    )


def firebase_app_for(settings: ServiceSettings, *, http_timeout_s: float | None = None) -> Any:
    """A firebase-admin app of its own (delete it with `firebase_admin.delete_app`).

    On Cloud Run it uses the service's own credentials; locally the Auth emulator, which
    firebase-admin finds only through the environment (settings allow that in local mode only).
    """
    import firebase_admin

    if settings.firebase_auth_emulator_host:
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = settings.firebase_auth_emulator_host
    name = f"agora-{settings.service_name}-{uuid.uuid4().hex}"
    timeout = http_timeout_s or settings.dependency_timeout_s * 2
    options = {"projectId": settings.project_id, "httpTimeout": timeout}
    return firebase_admin.initialize_app(options=options, name=name)
