"""The API keys' rules: a user's own keys only, sealed on the way in, masked on the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from agora_auth.keys.envelope import EnvelopeCipher, UnreadableSecret, associated_data
from agora_auth.keys.providers import Provider
from agora_auth.keys.records import StoredKey, UserKeys, valid_uid
from agora_auth.keys.repository import ApiKeyRepository, StaleWrite
from agora_auth.keys.views import MaskedKey
from agora_common.errors import AgoraError, BadRequest, Conflict, NotFound

log = logging.getLogger("agora.auth.keys")
_PROVIDERS = frozenset(p.value for p in Provider)
# Read-change-write attempts when other writes of the same user's keys keep coming in between.
_ATTEMPTS = 4


class ApiKeyNotFound(NotFound):
    code, message = "API_KEY_NOT_FOUND", "No key is stored for this provider"


class ApiKeyUnreadable(AgoraError):
    code, message = "API_KEY_UNREADABLE", "The stored key cannot be decrypted"


class KeysChanged(Conflict):
    code, message = "API_KEYS_CHANGED", "The keys changed meanwhile; try again"


class InvalidUid(BadRequest):
    code, message = "INVALID_UID", "This user id cannot hold keys"


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKeyService:
    """Store, list, delete and (for the executor) reveal a user's provider keys."""

    def __init__(
        self,
        repository: ApiKeyRepository,
        cipher: EnvelopeCipher,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._repo = repository
        self._cipher = cipher
        self._clock = clock

    async def masked(self, uid: str) -> list[MaskedKey]:
        return _masked(await self._repo.get(_checked(uid)))

    async def update(self, uid: str, changes: Mapping[Provider, str | None]) -> list[MaskedKey]:
        """Set the given keys and delete those given as None (a JSON merge patch)."""
        uid = _checked(uid)
        now = self._clock()
        to_store = {p.value: key for p, key in changes.items() if key is not None}
        sealed = await asyncio.gather(
            *(self._cipher.seal(key, associated_data(uid, p)) for p, key in to_store.items())
        )
        stored = {
            p: StoredKey(sealed=s, last4=key[-4:], updated_at=now)
            for (p, key), s in zip(to_store.items(), sealed, strict=True)
        }
        removed = {p.value for p, key in changes.items() if key is None}
        saved = await self._save(uid, now, lambda keys: {**_without(keys, removed), **stored})
        log.info(
            "api keys changed",
            extra={"uid": uid, "stored": sorted(stored), "removed": sorted(removed)},
        )
        return _masked(saved)

    async def delete(self, uid: str, provider: Provider) -> None:
        uid = _checked(uid)

        def without(keys: dict[str, StoredKey]) -> dict[str, StoredKey]:
            if provider.value not in keys:
                raise ApiKeyNotFound()
            return _without(keys, {provider.value})

        await self._save(uid, self._clock(), without)
        log.info("api key deleted", extra={"uid": uid, "provider": provider.value})

    async def _save(
        self,
        uid: str,
        at: datetime,
        change: Callable[[dict[str, StoredKey]], dict[str, StoredKey]],
    ) -> UserKeys:
        """Read, change and write the user's keys; again if someone wrote in between."""
        for _ in range(_ATTEMPTS):
            before = await self._repo.get(uid)
            keys = change(dict(before.keys) if before is not None else {})
            if keys == (before.keys if before is not None else {}):
                return UserKeys(uid=uid, keys=keys)  # nothing to change (null for no key)
            try:
                await self._repo.save(uid, keys, at, before=before)
            except StaleWrite:
                continue
            return UserKeys(uid=uid, keys=keys)
        raise KeysChanged()

    async def reveal(self, uid: str, provider: Provider) -> str:
        """The decrypted key; only ever for the executor's identity (see the route)."""
        keys = await self._repo.get(_checked(uid))
        stored = keys.keys.get(provider.value) if keys is not None else None
        if stored is None:
            raise ApiKeyNotFound()
        try:
            key = await self._cipher.open(stored.sealed, associated_data(uid, provider.value))
        except UnreadableSecret:
            log.error(
                "stored api key does not decrypt",
                extra={"uid": uid, "provider": provider.value},
            )
            raise ApiKeyUnreadable() from None
        log.info("api key revealed", extra={"uid": uid, "provider": provider.value})
        return key


def _checked(uid: str) -> str:
    if not valid_uid(uid):
        raise InvalidUid()
    return uid


def _without(keys: dict[str, StoredKey], names: set[str]) -> dict[str, StoredKey]:
    return {name: key for name, key in keys.items() if name not in names}


def _masked(keys: UserKeys | None) -> list[MaskedKey]:
    if keys is None:
        return []
    return [
        MaskedKey(provider=Provider(name), last4=key.last4, updated_at=key.updated_at)
        for name, key in sorted(keys.keys.items())
        if name in _PROVIDERS
    ]
