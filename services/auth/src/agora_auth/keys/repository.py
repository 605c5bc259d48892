"""Every Firestore call of the keys package: users' `api_keys` and agents' `agent_secrets`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_auth.keys.records import StoredKey, UserKeys
from agora_common.clients import bounded_call

API_KEYS = "api_keys"
AGENT_SECRETS = "agent_secrets"
# The slots of an agent's secret document (see keys.agent_secrets).
SECRET_SLOTS = ("current", "previous", "pending")


class StaleWrite(Exception):
    """The document changed (or went away) since it was read (nothing was written)."""


class ApiKeyRepository:
    """`api_keys/{uid}`: {uid, updated_at, providers: {<provider>: StoredKey fields}}."""

    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._db = db
        self._call = bounded_call(timeout_s)
        self._keys = db.collection(API_KEYS)

    async def get(self, uid: str) -> UserKeys | None:
        snapshot = await self._keys.document(uid).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return UserKeys.from_document(uid, data, snapshot.update_time)

    async def save(
        self, uid: str, keys: Mapping[str, StoredKey], at: datetime, *, before: UserKeys | None
    ) -> None:
        """Write the user's whole set of keys, if the document is still as `before` was read.

        The `providers` map is replaced whole rather than fields deleted one by one: the local
        emulator ignores field deletes (DELETE_FIELD), and one write keeps the set consistent.
        """
        document = {
            "uid": uid,
            "updated_at": at,
            "providers": {name: key.to_document() for name, key in keys.items()},
        }
        ref = self._keys.document(uid)
        try:
            if before is None:
                await ref.create(document, **self._call)
            else:
                await ref.update(document, option=self._unchanged_since(before), **self._call)
        except (
            google_errors.AlreadyExists,
            google_errors.FailedPrecondition,
            google_errors.NotFound,
        ):
            raise StaleWrite() from None

    async def replace_wrapped(self, before: UserKeys, rewrapped: Mapping[str, StoredKey]) -> None:
        """New wrapped data keys for some providers, if the document is unchanged since read.

        Only `wrapped_key` and `key_version` change; the ciphertexts are not touched.
        """
        changes: dict[str, Any] = {}
        for name, key in rewrapped.items():
            changes[f"providers.{name}.wrapped_key"] = key.sealed.wrapped_key.ciphertext
            changes[f"providers.{name}.key_version"] = key.sealed.wrapped_key.key_version
        option = self._unchanged_since(before)
        try:
            await self._keys.document(before.uid).update(changes, option=option, **self._call)
        except (google_errors.FailedPrecondition, google_errors.NotFound):
            raise StaleWrite() from None

    def _unchanged_since(self, before: UserKeys) -> Any:
        if before.update_time is None:
            return None
        return self._db.write_option(last_update_time=before.update_time)

    async def page(self, after_uid: str | None, limit: int) -> list[UserKeys]:
        """Up to `limit` documents in uid order after `after_uid` (keyset pagination)."""
        query: Any = self._keys
        if after_uid is not None:
            query = query.where(filter=FieldFilter("uid", ">", after_uid))
        query = query.order_by("uid").limit(limit)
        return [
            UserKeys.from_document(doc.id, doc.to_dict() or {}, doc.update_time)
            async for doc in query.stream(**self._call)
        ]

    async def count(self) -> int:
        results = await self._keys.count().get(**self._call)  # type: ignore[no-untyped-call]
        return int(results[0][0].value)


class AgentSecretRepository:
    """`agent_secrets/{agent_id}`: {agent_id, current, previous, pending}, each slot or null."""

    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._secrets = db.collection(AGENT_SECRETS)
        self._call = bounded_call(timeout_s)

    async def read(self, agent_id: str) -> dict[str, Any]:
        snapshot = await self._secrets.document(agent_id).get(**self._call)
        return snapshot.to_dict() or {}

    async def write(self, agent_id: str, document: Mapping[str, Any]) -> None:
        # Every slot written, empty ones as null: the local emulator ignores field deletes.
        await self._secrets.document(agent_id).set(
            {"agent_id": agent_id, **{k: document.get(k) or None for k in SECRET_SLOTS}},
            **self._call,
        )

    async def documents(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every agent's document, as (agent_id, document)."""
        async for snapshot in self._secrets.stream(**self._call):
            yield snapshot.id, snapshot.to_dict() or {}
