"""Envelope encryption: each secret under its own data key, the data key wrapped by a KEK.

A secret is sealed with AES-256-GCM under a fresh 256-bit data key; the data key is then wrapped
by a key-encryption key that never leaves its keeper (Cloud KMS, or a local key file in local
mode). Both layers take the same additional authenticated data, which names the owner and the
provider, so a ciphertext copied to another user or provider no longer opens.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agora_common.errors import ServiceUnavailable

DATA_KEY_BITS = 256
NONCE_BYTES = 12
# Bumped if the AAD layout ever changes; old records keep naming theirs.
AAD_FORMAT = "agora.api-key.v1"


class KeyServiceUnavailable(ServiceUnavailable):
    """The key keeper (KMS) is down, too slow or answered something corrupted."""

    code, message = "KEY_SERVICE_UNAVAILABLE", "The key service is unavailable"


class UnreadableSecret(Exception):
    """A ciphertext that does not open: tampered with, moved, or its key version is gone."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted by a KEK, and the KEK version that did it."""

    ciphertext: bytes
    key_version: str


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys with a key-encryption key (KMS or a local key file)."""

    async def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """The data key encrypted under the KEK's primary version."""
        ...

    async def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """The data key; raises UnreadableSecret when it does not open with this AAD."""
        ...

    async def primary_version(self) -> str:
        """The version that `wrap` uses now."""
        ...


@dataclass(frozen=True)
class SealedSecret:
    """What is stored: nonce + AES-GCM ciphertext, and the data key wrapped by the KEK."""

    ciphertext: bytes
    wrapped_key: WrappedKey


def associated_data(uid: str, provider: str) -> bytes:
    """The AAD binding a secret to its owner and provider (unambiguous: a JSON array)."""
    return json.dumps([AAD_FORMAT, uid, provider], separators=(",", ":")).encode()


class EnvelopeCipher:
    """Seal, open and re-wrap secrets through one KeyWrapper."""

    def __init__(self, wrapper: KeyWrapper) -> None:
        self.wrapper = wrapper

    async def seal(self, plaintext: str, aad: bytes) -> SealedSecret:
        data_key = AESGCM.generate_key(bit_length=DATA_KEY_BITS)
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode(), aad)
        return SealedSecret(ciphertext, await self.wrapper.wrap(data_key, aad))

    async def open(self, sealed: SealedSecret, aad: bytes) -> str:
        data_key = await self.wrapper.unwrap(sealed.wrapped_key, aad)
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            return AESGCM(data_key).decrypt(nonce, body, aad).decode()
        except (InvalidTag, ValueError):
            raise UnreadableSecret("the secret does not open with this AAD") from None

    async def rewrap(self, sealed: SealedSecret, aad: bytes) -> SealedSecret:
        """The same ciphertext with its data key wrapped under the KEK's primary version."""
        data_key = await self.wrapper.unwrap(sealed.wrapped_key, aad)
        return replace(sealed, wrapped_key=await self.wrapper.wrap(data_key, aad))

    async def primary_version(self) -> str:
        return await self.wrapper.primary_version()
