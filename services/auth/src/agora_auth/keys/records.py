"""What is stored per user: `api_keys/{uid}` with one sealed secret per provider."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agora_auth.keys.envelope import SealedSecret, WrappedKey

ALGORITHM = "AES-256-GCM"
_DOC_ID = re.compile(r"[^/]{1,128}")


def valid_uid(uid: str) -> bool:
    """A uid usable as a document id: no '/', not '.' or '..', not shaped like __name__."""
    return (
        bool(_DOC_ID.fullmatch(uid))
        and uid not in {".", ".."}
        and not (uid.startswith("__") and uid.endswith("__"))
    )


@dataclass(frozen=True)
class StoredKey:
    """One provider's key: the sealed secret, its last four characters, when it was set."""

    sealed: SealedSecret
    last4: str
    updated_at: datetime

    def to_document(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "ciphertext": self.sealed.ciphertext,
            "wrapped_key": self.sealed.wrapped_key.ciphertext,
            "key_version": self.sealed.wrapped_key.key_version,
            "last4": self.last4,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> StoredKey:
        sealed = SealedSecret(
            ciphertext=bytes(data["ciphertext"]),
            wrapped_key=WrappedKey(bytes(data["wrapped_key"]), str(data["key_version"])),
        )
        return cls(sealed=sealed, last4=str(data["last4"]), updated_at=data["updated_at"])


@dataclass(frozen=True)
class UserKeys:
    """A user's document: their keys by provider, and when Firestore last changed it."""

    uid: str
    keys: dict[str, StoredKey] = field(default_factory=dict)
    update_time: datetime | None = None

    @classmethod
    def from_document(
        cls, uid: str, data: dict[str, Any], update_time: datetime | None
    ) -> UserKeys:
        providers: dict[str, Any] = data.get("providers") or {}
        keys = {name: StoredKey.from_document(doc) for name, doc in providers.items()}
        return cls(uid=uid, keys=keys, update_time=update_time)
