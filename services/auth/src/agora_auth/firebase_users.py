"""Firebase Auth through firebase-admin: the user records, custom claims and custom tokens.

firebase-admin is blocking, so every call runs in a worker thread under a deadline; an outage is
a fast 503 in the envelope, never a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from firebase_admin import auth
from firebase_admin.exceptions import FirebaseError

from agora_common.errors import NotFound, ServiceUnavailable

T = TypeVar("T")
MAX_PAGE = 100


class UserNotFound(NotFound):
    code, message = "USER_NOT_FOUND", "No such user"


@dataclass(frozen=True)
class AuthUser:
    uid: str
    email: str | None
    display_name: str | None
    disabled: bool
    admin: bool
    created_at: datetime | None

    @classmethod
    def of(cls, record: Any) -> AuthUser:
        claims = record.custom_claims or {}
        created_ms = record.user_metadata.creation_timestamp if record.user_metadata else None
        return cls(
            uid=record.uid,
            email=record.email,
            display_name=record.display_name,
            disabled=bool(record.disabled),
            admin=claims.get("admin") is True,
            created_at=datetime.fromtimestamp(created_ms / 1000, UTC) if created_ms else None,
        )


class FirebaseUsers:
    """The Auth backend's user records (Google's in production, the emulator locally)."""

    def __init__(self, app: Any, *, timeout_s: float) -> None:
        self._app = app
        self._timeout_s = timeout_s

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await asyncio.to_thread(call, *args, app=self._app, **kwargs)
        except auth.UserNotFoundError:
            raise UserNotFound() from None
        except (TimeoutError, FirebaseError, OSError) as exc:
            raise ServiceUnavailable("Firebase Auth is unavailable; retry shortly") from exc

    async def get(self, uid: str) -> AuthUser:
        return AuthUser.of(await self._run(auth.get_user, uid))

    async def get_by_email(self, email: str) -> AuthUser:
        return AuthUser.of(await self._run(auth.get_user_by_email, email))

    async def page(self, page_token: str | None, limit: int) -> tuple[list[AuthUser], str | None]:
        """One page of users in the backend's order, and the token of the next page."""
        page = await self._run(auth.list_users, page_token=page_token, max_results=limit)
        return [AuthUser.of(user) for user in page.users], page.next_page_token or None

    async def set_admin(self, uid: str, admin: bool) -> AuthUser:
        """Set or clear the `admin` claim, keeping every other claim.

        Taking admin away also revokes the user's refresh tokens: a token minted before the
        change still says `admin: true` until it expires, and revocation lets the gateway refuse
        it where it checks (writes) and forces a fresh sign-in.
        """
        record = await self._run(auth.get_user, uid)
        claims = dict(record.custom_claims or {})
        if admin:
            claims["admin"] = True
        else:
            claims.pop("admin", None)
        await self._run(auth.set_custom_user_claims, uid, claims or None)
        if not admin:
            await self._run(auth.revoke_refresh_tokens, uid)
        return await self.get(uid)

    async def custom_token(self, uid: str, claims: dict[str, Any]) -> str:
        """A custom token to exchange with `signInWithCustomToken` (valid for one hour)."""
        token = await self._run(auth.create_custom_token, uid, claims)
        return token.decode() if isinstance(token, bytes) else str(token)
