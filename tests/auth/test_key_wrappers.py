"""One suite for both KeyWrappers: the local key file and Cloud KMS (through the KMS stand-in)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.cloud import kms as kms_api

from agora_auth.keys.envelope import (
    EnvelopeCipher,
    KeyServiceUnavailable,
    KeyWrapper,
    UnreadableSecret,
    associated_data,
)
from agora_auth.keys.kms import KmsKeyWrapper
from agora_auth.keys.local import KeyFileError, LocalKeyWrapper, add_key_version
from agora_common.kms import close_kms_client, make_kms_client
from tests.support.kms import KmsStandIn, kms_stand_in

AAD = associated_data("user-1", "openai")


@dataclass
class Backend:
    """A wrapper, and how ops make a new primary version of its key-encryption key."""

    name: str
    wrapper: KeyWrapper
    new_primary_version: Callable[[], Awaitable[str]]


@pytest.fixture(params=["local", "kms"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, kms: KmsStandIn
) -> AsyncIterator[Backend]:
    if request.param == "local":
        path = tmp_path / "kek.json"

        async def add_local_version() -> str:
            return add_key_version(path)

        yield Backend("local", LocalKeyWrapper(path), add_local_version)
        return
    client = make_kms_client(kms.endpoint)

    async def rotate_in_kms() -> str:
        # What ops do: `gcloud kms keys versions create --primary`, i.e. these two calls.
        version = await client.create_crypto_key_version(
            parent=kms.key_name, crypto_key_version=kms_api.CryptoKeyVersion()
        )
        key = await client.update_crypto_key_primary_version(
            name=kms.key_name, crypto_key_version_id=version.name.rsplit("/", 1)[1]
        )
        return str(key.primary.name)

    try:
        yield Backend("kms", KmsKeyWrapper(client, kms.key_name, timeout_s=1.0), rotate_in_kms)
    finally:
        await close_kms_client(client)


async def test_a_wrapped_data_key_unwraps_with_its_aad(backend: Backend) -> None:
    data_key = secrets.token_bytes(32)
    wrapped = await backend.wrapper.wrap(data_key, AAD)
    assert data_key not in wrapped.ciphertext
    assert wrapped.key_version == await backend.wrapper.primary_version()
    assert await backend.wrapper.unwrap(wrapped, AAD) == data_key


@pytest.mark.parametrize(
    "other",
    [
        associated_data("user-2", "openai"),
        associated_data("user-1", "anthropic"),
        b"",
    ],
)
async def test_a_wrapped_data_key_does_not_unwrap_with_another_aad(
    backend: Backend, other: bytes
) -> None:
    wrapped = await backend.wrapper.wrap(secrets.token_bytes(32), AAD)
    with pytest.raises(UnreadableSecret):
        await backend.wrapper.unwrap(wrapped, other)


async def test_a_damaged_wrapped_key_does_not_unwrap(backend: Backend) -> None:
    wrapped = await backend.wrapper.wrap(secrets.token_bytes(32), AAD)
    damaged = bytearray(wrapped.ciphertext)
    damaged[-1] ^= 1
    with pytest.raises(UnreadableSecret):
        await backend.wrapper.unwrap(type(wrapped)(bytes(damaged), wrapped.key_version), AAD)


async def test_rotation_makes_a_new_primary_and_old_keys_still_unwrap(backend: Backend) -> None:
    data_key = secrets.token_bytes(32)
    old = await backend.wrapper.wrap(data_key, AAD)
    new_version = await backend.new_primary_version()
    assert new_version != old.key_version
    assert await backend.wrapper.primary_version() == new_version
    assert await backend.wrapper.unwrap(old, AAD) == data_key
    new = await backend.wrapper.wrap(data_key, AAD)
    assert new.key_version == new_version
    assert await backend.wrapper.unwrap(new, AAD) == data_key


async def test_the_envelope_seals_opens_and_rewraps(backend: Backend) -> None:
    cipher = EnvelopeCipher(backend.wrapper)
    secret = "sk-proj-" + secrets.token_urlsafe(32)
    sealed = await cipher.seal(secret, AAD)
    assert secret.encode() not in sealed.ciphertext
    assert await cipher.open(sealed, AAD) == secret

    new_version = await backend.new_primary_version()
    rewrapped = await cipher.rewrap(sealed, AAD)
    assert rewrapped.ciphertext == sealed.ciphertext
    assert rewrapped.wrapped_key.key_version == new_version
    assert await cipher.open(rewrapped, AAD) == secret
    assert await cipher.open(sealed, AAD) == secret  # the old version is kept


async def test_an_envelope_moved_to_another_owner_or_provider_does_not_open(
    backend: Backend,
) -> None:
    cipher = EnvelopeCipher(backend.wrapper)
    sealed = await cipher.seal("sk-" + secrets.token_urlsafe(24), AAD)
    for uid, provider in (("user-2", "openai"), ("user-1", "groq")):
        with pytest.raises(UnreadableSecret):
            await cipher.open(sealed, associated_data(uid, provider))


async def test_each_seal_uses_a_fresh_data_key(backend: Backend) -> None:
    cipher = EnvelopeCipher(backend.wrapper)
    first, second = (
        await cipher.seal("same-secret-value", AAD),
        await cipher.seal("same-secret-value", AAD),
    )
    assert first.wrapped_key.ciphertext != second.wrapped_key.ciphertext
    assert first.ciphertext != second.ciphertext


def test_the_aad_is_unambiguous() -> None:
    assert associated_data("a,b", "c") != associated_data("a", "b,c")
    assert associated_data('a"', "b") != associated_data("a", '"b')


# --- local key file ---------------------------------------------------------------------------


def test_the_local_key_file_is_made_on_first_use_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kek.json"
    LocalKeyWrapper(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o077 == 0
    before = path.read_bytes()
    LocalKeyWrapper(path)
    assert path.read_bytes() == before, "an existing key file is kept as it is"


def test_a_local_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    LocalKeyWrapper(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        LocalKeyWrapper(path)


def test_a_malformed_local_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    path.write_text('{"format": "something else", "secret": "do-not-print-me"}')
    path.chmod(0o600)
    with pytest.raises(KeyFileError) as raised:
        LocalKeyWrapper(path)
    assert "do-not-print-me" not in str(raised.value)


async def test_a_running_wrapper_sees_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    running = LocalKeyWrapper(path)
    new_version = add_key_version(path)  # as `rotate-keys` does, from its own process
    rewrapped = await LocalKeyWrapper(path).wrap(b"k" * 32, AAD)
    assert rewrapped.key_version == new_version
    assert await running.unwrap(rewrapped, AAD) == b"k" * 32
    assert await running.primary_version() == new_version


# --- KMS: outages are fast, corruption is caught ----------------------------------------------


@pytest.mark.parametrize("mode", ["stall", "unavailable"])
async def test_a_kms_outage_fails_fast(kms: KmsStandIn, mode: str) -> None:
    client = make_kms_client(kms.endpoint)
    wrapper = KmsKeyWrapper(client, kms.key_name, timeout_s=0.5)
    kms.mode = mode  # type: ignore[assignment]
    try:
        for call in (
            lambda: wrapper.wrap(b"k" * 32, AAD),
            lambda: wrapper.primary_version(),
        ):
            started = time.monotonic()
            with pytest.raises(KeyServiceUnavailable):
                await call()
            assert time.monotonic() - started < 1.5
    finally:
        kms.mode = "ok"
        await close_kms_client(client)


async def test_an_unreachable_kms_fails_fast() -> None:
    with kms_stand_in() as gone:
        endpoint, key_name = gone.endpoint, gone.key_name
    client = make_kms_client(endpoint)  # nothing listens there any more
    try:
        wrapper = KmsKeyWrapper(client, key_name, timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(KeyServiceUnavailable):
            await wrapper.wrap(b"k" * 32, AAD)
        assert time.monotonic() - started < 1.5
    finally:
        await close_kms_client(client)


async def test_corrupted_kms_answers_are_caught_by_their_checksums(kms: KmsStandIn) -> None:
    client = make_kms_client(kms.endpoint)
    wrapper = KmsKeyWrapper(client, kms.key_name, timeout_s=1.0)
    try:
        wrapped = await wrapper.wrap(b"k" * 32, AAD)
        kms.mode = "corrupt"
        with pytest.raises(KeyServiceUnavailable, match="corrupted"):
            await wrapper.wrap(b"k" * 32, AAD)
        with pytest.raises(KeyServiceUnavailable, match="corrupted"):
            await wrapper.unwrap(wrapped, AAD)
    finally:
        kms.mode = "ok"
        await close_kms_client(client)


async def test_kms_records_name_the_version_that_wrapped_them(kms: KmsStandIn) -> None:
    client = make_kms_client(kms.endpoint)
    try:
        wrapped = await KmsKeyWrapper(client, kms.key_name, timeout_s=1.0).wrap(b"k" * 32, AAD)
        assert wrapped.key_version == kms.primary
        assert wrapped.key_version.startswith(f"{kms.key_name}/cryptoKeyVersions/")
    finally:
        await close_kms_client(client)
