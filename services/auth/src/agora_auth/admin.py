"""The admin role: who has the `admin` claim, granted and revoked with an audit entry each."""

from __future__ import annotations

import contextlib
import logging

from agora_auth.firebase_users import AuthUser, FirebaseUsers
from agora_auth.models import UserPage, UserRecord
from agora_common.audit import Actor, AuditLog
from agora_common.errors import AgoraError, Conflict

log = logging.getLogger("agora.auth.admin")


class OwnAdminRole(Conflict):
    code = "OWN_ADMIN_ROLE"
    message = "Admins cannot revoke their own admin role here; ask another admin or use the CLI"


def user_record(user: AuthUser) -> UserRecord:
    return UserRecord(
        uid=user.uid,
        email=user.email,
        display_name=user.display_name,
        disabled=user.disabled,
        admin=user.admin,
        created_at=user.created_at,
    )


class AdminService:
    def __init__(self, users: FirebaseUsers, audit: AuditLog) -> None:
        self._users = users
        self._audit = audit

    async def page(self, page_token: str | None, limit: int) -> UserPage:
        users, next_token = await self._users.page(page_token, limit)
        return UserPage(users=[user_record(u) for u in users], next_page_token=next_token)

    async def set_admin(self, actor: Actor, uid: str, admin: bool) -> UserRecord:
        """Grant or revoke; the audit entry is written first, so no change lands unrecorded.

        A change that then fails is recorded as failed (`admin.grant.failed`); one that timed
        out may still have landed, and its entry is already there. The claim reaches the
        user's ID token when it is next refreshed (at most an hour, or at once with
        `getIdToken(true)`); a revoke also revokes the user's refresh tokens.
        """
        if not admin and actor.kind == "user" and actor.uid == uid:
            raise OwnAdminRole()
        before = await self._users.get(uid)
        action = "admin.grant" if admin else "admin.revoke"
        target = {"uid": uid, "email": before.email}
        await self._audit.record(action, actor, target, {"was_admin": before.admin})
        try:
            after = await self._users.set_admin(uid, admin)
        except AgoraError as error:
            log.error("admin change failed after its audit entry", extra={"uid": uid})
            with contextlib.suppress(AgoraError):
                await self._audit.record(f"{action}.failed", actor, target, {"error": error.code})
            raise
        return user_record(after)

    async def set_admin_by_email(self, actor: Actor, email: str, admin: bool) -> UserRecord:
        user = await self._users.get_by_email(email)
        return await self.set_admin(actor, user.uid, admin)
