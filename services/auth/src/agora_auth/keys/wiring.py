"""The KeyWrapper the settings ask for: Cloud KMS when a key is named, else the local key file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agora_auth.keys.envelope import KeyWrapper
from agora_auth.keys.kms import KmsKeyWrapper
from agora_auth.keys.local import LocalKeyWrapper
from agora_auth.settings import AuthSettings
from agora_common.kms import close_kms_client, make_kms_client


@asynccontextmanager
async def open_key_wrapper(settings: AuthSettings) -> AsyncIterator[KeyWrapper]:
    """Open the wrapper (and its KMS client) for the lifetime of the block."""
    if settings.kms_key is None:
        yield LocalKeyWrapper(settings.local_kek_path)
        return
    client = make_kms_client(settings.kms_endpoint)
    try:
        yield KmsKeyWrapper(client, settings.kms_key, timeout_s=settings.dependency_timeout_s)
    finally:
        await close_kms_client(client)
