"""The admin role: check it, list users, grant and revoke it (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agora_auth.firebase_users import MAX_PAGE
from agora_auth.models import AdminStatus, UserPage, UserRecord
from agora_auth.routes.deps import Admins
from agora_common.audit import Actor
from agora_common.identity import AdminUser, SignedInUser
from agora_common.models import CallerKind

router = APIRouter(prefix="/admin", tags=["admin"])
Uid = Annotated[str, "a Firebase uid"]


@router.post("/verify", response_model=AdminStatus, summary="Whether the caller is an admin")
async def verify_admin(user: SignedInUser) -> AdminStatus:
    """From the `admin` claim of the caller's current token (agents never are)."""
    assert user.uid is not None
    return AdminStatus(uid=user.uid, admin=user.admin and user.kind is CallerKind.USER)


@router.get("/users", response_model=UserPage, summary="List users (admins only)")
async def list_users(
    _: AdminUser,
    admins: Admins,
    page_token: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> UserPage:
    return await admins.page(page_token, limit)


@router.put("/users/{uid}/admin", response_model=UserRecord, summary="Grant admin (admins only)")
async def grant(uid: Uid, admin: AdminUser, admins: Admins) -> UserRecord:
    """Takes effect when the user's ID token is next refreshed."""
    return await admins.set_admin(Actor.user(admin), uid, True)


@router.delete(
    "/users/{uid}/admin", response_model=UserRecord, summary="Revoke admin (admins only)"
)
async def revoke(uid: Uid, admin: AdminUser, admins: Admins) -> UserRecord:
    """Also revokes the user's refresh tokens, so the old token stops working on writes."""
    return await admins.set_admin(Actor.user(admin), uid, False)
