"""Every Firestore call of personal tokens: `personal_tokens/{token_id}`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_auth.personal_tokens.models import StoredToken
from agora_common.clients import bounded_call
from agora_common.errors import ServiceUnavailable

PERSONAL_TOKENS = "personal_tokens"


class TooManyTokens(Exception):
    """The user already holds the most live tokens allowed (nothing was written)."""


class PersonalTokenRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._tokens = db.collection(PERSONAL_TOKENS)
        self._call = bounded_call(timeout_s)
        self._timeout_s = timeout_s

    async def of_user(self, uid: str, *, limit: int) -> list[StoredToken]:
        """The user's tokens, live or expired (revoked ones are deleted), up to `limit`."""
        query = self._tokens.where(filter=FieldFilter("uid", "==", uid)).limit(limit)
        return [_stored(doc.to_dict()) async for doc in query.stream(**self._call)]

    async def create_within(self, token: StoredToken, *, live_limit: int, now: datetime) -> None:
        """Create `token` unless its owner already holds `live_limit` unexpired tokens.

        Counted and created in one transaction, so concurrent creations cannot pass the limit.
        """
        query = self._tokens.where(filter=FieldFilter("uid", "==", token.uid))
        ref = self._tokens.document(token.token_id)

        @firestore.async_transactional
        async def create(transaction: Any) -> None:
            held = [_stored(doc.to_dict()) async for doc in query.stream(transaction=transaction)]
            if sum(1 for held_token in held if held_token.expires_at > now) >= live_limit:
                raise TooManyTokens()
            transaction.create(ref, token.document())

        try:
            # A transaction's reads and commit take no per-call bound: bound them together.
            async with asyncio.timeout(self._timeout_s * 2):
                await create(self._db.transaction())
        except TimeoutError:
            raise ServiceUnavailable("Firestore did not answer in time") from None

    async def by_hash(self, secret_sha256: str) -> StoredToken | None:
        query = self._tokens.where(filter=FieldFilter("secret_sha256", "==", secret_sha256))
        async for doc in query.limit(1).stream(**self._call):
            return _stored(doc.to_dict())
        return None

    async def get(self, token_id: str) -> StoredToken | None:
        snapshot = await self._tokens.document(token_id).get(**self._call)
        data = snapshot.to_dict()
        return _stored(data) if snapshot.exists and data else None

    async def delete(self, token_id: str) -> None:
        await self._tokens.document(token_id).delete(**self._call)

    async def used(self, token_id: str, at: datetime) -> None:
        await self._tokens.document(token_id).update({"last_used_at": at}, **self._call)


def _stored(data: dict[str, Any] | None) -> StoredToken:
    return StoredToken.model_validate(data or {})
