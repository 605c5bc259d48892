"""What the API keys routes answer: masked keys to users, the key itself to the executor."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agora_auth.keys.providers import Provider


class MaskedKey(BaseModel):
    """A stored key as its owner sees it: never the key, only its last four characters."""

    provider: Provider
    last4: str = Field(description="The key's last four characters")
    updated_at: datetime


class MaskedKeys(BaseModel):
    keys: list[MaskedKey] = Field(description="The caller's keys, by provider name")


class RevealedKey(BaseModel):
    """A decrypted key, for the executor's call to the provider."""

    uid: str
    provider: Provider
    api_key: str
