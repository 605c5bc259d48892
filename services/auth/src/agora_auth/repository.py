"""Every Firestore call of the auth service's profiles (`users/{uid}`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import firestore

from agora_auth.models import Profile
from agora_common.clients import bounded_call

USERS = "users"


class ProfileRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._users = db.collection(USERS)
        self._call = bounded_call(timeout_s)

    async def get(self, uid: str) -> Profile | None:
        snapshot = await self._users.document(uid).get(**self._call)
        data = snapshot.to_dict()
        return Profile.model_validate(data) if data else None

    async def create(self, profile: Profile) -> Profile:
        """Store a new profile; when one appeared meanwhile, that one wins and is returned."""
        try:
            await self._users.document(profile.uid).create(profile.model_dump(), **self._call)
        except google_errors.AlreadyExists:
            existing = await self.get(profile.uid)
            if existing is not None:
                return existing
            raise
        return profile

    async def update(self, uid: str, fields: dict[str, Any]) -> Profile:
        changes = {**fields, "updated_at": datetime.now(UTC)}
        await self._users.document(uid).update(changes, **self._call)
        stored = await self.get(uid)
        assert stored is not None
        return stored
