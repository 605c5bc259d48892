"""The caller's own profile."""

from __future__ import annotations

from fastapi import APIRouter

from agora_auth.models import Profile, ProfileUpdate
from agora_auth.routes.deps import Profiles
from agora_common.identity import HumanUser

router = APIRouter(prefix="/user", tags=["profile"])


@router.get("/profile", response_model=Profile, summary="The caller's profile (made on first use)")
async def get_profile(user: HumanUser, profiles: Profiles) -> Profile:
    return await profiles.get(user)


@router.patch("/profile", response_model=Profile, summary="Change the caller's display name")
async def patch_profile(change: ProfileUpdate, user: HumanUser, profiles: Profiles) -> Profile:
    return await profiles.update(user, change)
