"""User profiles (`users/{uid}`): created on first use, only the safe fields writable."""

from __future__ import annotations

from datetime import UTC, datetime

from agora_auth.models import Profile, ProfileUpdate
from agora_auth.repository import ProfileRepository
from agora_common.models import UserIdentity


class ProfileService:
    def __init__(self, repository: ProfileRepository) -> None:
        self._repo = repository

    async def get(self, user: UserIdentity) -> Profile:
        """The caller's profile, created from the token's claims on first use."""
        uid = user.uid
        assert uid is not None  # HumanUser on the route
        profile = await self._repo.get(uid)
        if profile is None:
            now = datetime.now(UTC)
            fresh = Profile(
                uid=uid, email=user.email, admin=user.admin, created_at=now, updated_at=now
            )
            profile = await self._repo.create(fresh)  # or the one a concurrent call created
        if (profile.email, profile.admin) != (user.email, user.admin):
            # The token is the source of truth for the email and the admin claim.
            profile = await self._repo.update(uid, {"email": user.email, "admin": user.admin})
        return profile

    async def update(self, user: UserIdentity, change: ProfileUpdate) -> Profile:
        await self.get(user)
        assert user.uid is not None
        return await self._repo.update(user.uid, change.model_dump())
