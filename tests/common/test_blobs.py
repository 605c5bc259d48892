"""BlobStore on the session's Cloud Storage emulator: create-only, bounded, and fast 503s."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions as google_exceptions
from pydantic import ValidationError

from agora_common.app import Needs, close_resources, open_resources
from agora_common.blobs import (
    BlobExists,
    BlobNotFound,
    BlobStore,
    BlobTooLarge,
    blob_url,
    check_blob_name,
    crc32c_base64,
    make_blob_store,
    md5_base64,
    parse_blob_url,
)
from agora_common.errors import ServiceUnavailable
from agora_devstack.emulators import SOURCE_BUCKET
from tests.common.conftest import DemoSettings
from tests.support.factories import local_settings_kwargs

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


def settings(dev_key: tuple[Path, Path], **overrides: Any) -> DemoSettings:
    key_file, jwks = dev_key
    return DemoSettings(**local_settings_kwargs(key_file, jwks, "http://127.0.0.1:1", **overrides))


@pytest.fixture(scope="module")
def store(emulator_env: dict[str, str], dev_key: tuple[Path, Path]) -> Iterator[BlobStore]:
    made = make_blob_store(
        settings(
            dev_key,
            storage_emulator_host=emulator_env["STORAGE_EMULATOR_HOST"],
            source_bucket=SOURCE_BUCKET,
        )
    )
    assert made is not None
    yield made
    made.close()


def fresh(name: str = "source.tar.gz") -> str:
    return f"tests/blobs/{uuid.uuid4().hex}/{name}"


@pytest.fixture
def requests_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every HTTP request the storage client sends during the test: (method, URL)."""
    seen: list[tuple[str, str]] = []
    original = requests.Session.request

    def recording(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        seen.append((method, url))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return seen


# --- against the emulator -------------------------------------------------------------------------


async def test_put_then_get_round_trips(store: BlobStore) -> None:
    name, data = fresh(), os.urandom(4096)
    assert not await store.exists(name)
    await store.put(name, data, content_type="application/gzip")
    assert await store.exists(name)
    assert await store.get(name, max_bytes=len(data)) == data


async def test_a_large_object_round_trips_through_a_resumable_upload(store: BlobStore) -> None:
    """Past 8 MiB the client switches to a resumable upload: create-only holds there too."""
    name, data = fresh(), os.urandom(9 * MiB)
    await store.put(name, data, content_type="application/gzip")
    assert await store.get(name, max_bytes=10 * MiB) == data
    with pytest.raises(BlobExists):
        await store.put(name, os.urandom(9 * MiB), content_type="application/gzip")
    await store.put(name, data, content_type="application/gzip")  # same bytes: no-op


async def test_put_is_create_only(store: BlobStore) -> None:
    name = fresh()
    await store.put(name, b"first", content_type="text/plain")
    with pytest.raises(BlobExists) as caught:
        await store.put(name, b"other", content_type="text/plain")
    assert (caught.value.status_code, caught.value.code) == (409, "BLOB_EXISTS")
    assert caught.value.details == [{"object": f"gs://{SOURCE_BUCKET}/{name}"}]
    # Same size, other bytes: the hashes tell them apart.
    with pytest.raises(BlobExists):
        await store.put(name, b"FIRST", content_type="text/plain")
    assert await store.get(name, max_bytes=100) == b"first"


async def test_putting_the_same_bytes_again_is_a_no_op(store: BlobStore) -> None:
    name, data = fresh(), b"same bytes"
    await store.put(name, data, content_type="text/plain")
    before = store._bucket.get_blob(name)
    await store.put(name, data, content_type="application/octet-stream")
    after = store._bucket.get_blob(name)
    assert before is not None and after is not None
    assert after.generation == before.generation  # not rewritten
    assert (after.md5_hash, after.crc32c) == (md5_base64(data), crc32c_base64(data))


async def test_concurrent_puts_of_one_name_create_it_once(store: BlobStore) -> None:
    name = fresh()
    results = await asyncio.gather(
        *(store.put(name, f"v{i}".encode(), content_type="text/plain") for i in range(5)),
        return_exceptions=True,
    )
    assert sum(result is None for result in results) == 1
    assert all(isinstance(r, BlobExists) for r in results if r is not None)


async def test_an_object_over_max_bytes_is_refused_before_downloading(
    store: BlobStore, requests_seen: list[tuple[str, str]]
) -> None:
    name = fresh()
    await store.put(name, b"x" * 1000, content_type="text/plain")
    requests_seen.clear()
    with pytest.raises(BlobTooLarge) as caught:
        await store.get(name, max_bytes=999)
    assert (caught.value.status_code, caught.value.code) == (413, "BLOB_TOO_LARGE")
    assert requests_seen, "the metadata is read"
    assert not [url for _, url in requests_seen if "alt=media" in url], requests_seen
    assert await store.get(name, max_bytes=1000) == b"x" * 1000


async def test_a_missing_object_is_not_found(store: BlobStore) -> None:
    name = fresh()
    with pytest.raises(BlobNotFound) as caught:
        await store.get(name, max_bytes=MiB)
    assert (caught.value.status_code, caught.value.code) == (404, "BLOB_NOT_FOUND")
    assert not await store.exists(name)


async def test_a_missing_bucket_is_not_an_outage(
    emulator_env: dict[str, str], dev_key: tuple[Path, Path]
) -> None:
    other = make_blob_store(
        settings(
            dev_key,
            storage_emulator_host=emulator_env["STORAGE_EMULATOR_HOST"],
            source_bucket="agora-no-such-bucket",
        )
    )
    assert other is not None
    try:
        with pytest.raises(BlobNotFound):
            await other.get(fresh(), max_bytes=10)
        assert not await other.exists(fresh())
    finally:
        other.close()


# --- outages --------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Call = Callable[[BlobStore], Any]
CALLS: dict[str, Call] = {
    "put": lambda s: s.put(fresh(), b"data", content_type="text/plain"),
    "get": lambda s: s.get(fresh(), max_bytes=10),
    "exists": lambda s: s.exists(fresh()),
}


@pytest.mark.parametrize("call", list(CALLS))
async def test_an_emulator_that_is_down_is_a_fast_503(
    call: str, dev_key: tuple[Path, Path]
) -> None:
    down = make_blob_store(
        settings(
            dev_key,
            storage_emulator_host=f"http://127.0.0.1:{closed_port()}",
            source_bucket=SOURCE_BUCKET,
            dependency_timeout_s=1.0,
        )
    )
    assert down is not None
    started = time.monotonic()
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await CALLS[call](down)
    finally:
        down.close()
    assert time.monotonic() - started < 2.5
    assert (caught.value.status_code, caught.value.code) == (503, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize("call", list(CALLS))
async def test_an_emulator_that_never_answers_is_a_503_within_the_read_timeout(
    call: str, dev_key: tuple[Path, Path]
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        mute = make_blob_store(
            settings(
                dev_key,
                storage_emulator_host=f"127.0.0.1:{port}",  # host:port alone means http
                source_bucket=SOURCE_BUCKET,
                http_read_timeout_s=1.0,
                dependency_timeout_s=0.5,
            )
        )
        assert mute is not None
        started = time.monotonic()
        try:
            with pytest.raises(ServiceUnavailable):
                await CALLS[call](mute)
        finally:
            mute.close()
        assert time.monotonic() - started < 2.5


# --- names, URLs, settings and the app's lifespan -------------------------------------------------


def test_blob_urls_round_trip_and_are_validated() -> None:
    url = blob_url("agora-sources", "tools/quantflow/1.0.0/source.tar.gz")
    assert url == "gs://agora-sources/tools/quantflow/1.0.0/source.tar.gz"
    assert parse_blob_url(url) == ("agora-sources", "tools/quantflow/1.0.0/source.tar.gz")
    for bad in [
        "https://agora-sources/x",
        "gs://agora-sources",
        "gs://agora-sources/",
        "gs://Agora-Sources/x",
        "gs://ab/x",
        "gs://goog-sources/x",
        "gs://192.168.0.1/x",
        "gs://agora-sources/a//b",
        "gs://agora-sources/a/../b",
    ]:
        with pytest.raises(ValueError, match=r"gs://|bucket name|object name"):
            parse_blob_url(bad)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/abs",
        "a//b",
        "a/./b",
        "a/../b",
        "trailing/",
        "back\\slash",
        "nl\n",
        "x" * 1025,
        ".well-known/acme-challenge/x",
    ],
)
def test_unsafe_object_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="object name"):
        check_blob_name(name)


def test_object_names_of_sources_are_accepted() -> None:
    assert check_blob_name("tools/quantflow/1.0.0/source.tar.gz")
    assert check_blob_name("tools/naïve-tool/2/ünïcode.zip")


def test_settings_name_the_bucket_and_refuse_a_bad_one(dev_key: tuple[Path, Path]) -> None:
    assert make_blob_store(settings(dev_key)) is None  # no bucket: no store
    with pytest.raises(ValidationError, match="not a Cloud Storage bucket name"):
        settings(dev_key, source_bucket="Not_A-Bucket!")


async def test_the_lifespan_opens_the_store_on_request_and_closes_it(
    emulator_env: dict[str, str], dev_key: tuple[Path, Path]
) -> None:
    configured = settings(
        dev_key,
        storage_emulator_host=emulator_env["STORAGE_EMULATOR_HOST"],
        source_bucket=SOURCE_BUCKET,
    )
    assert open_resources(configured, Needs()).blobs is None
    resources = open_resources(configured, Needs(storage=True))
    try:
        assert resources.blobs is not None
        assert resources.blobs.bucket_name == SOURCE_BUCKET
        assert "storage" not in resources.readiness
        name = fresh()
        await resources.blobs.put(name, b"wired", content_type="text/plain")
        assert await resources.blobs.get(name, max_bytes=5) == b"wired"
    finally:
        await close_resources(resources)


# --- a writer that may create but not overwrite ---------------------------------------------------


class _Stored:
    def __init__(self, data: bytes) -> None:
        self.size = len(data)
        self.md5_hash = md5_base64(data)
        self.crc32c = crc32c_base64(data)


class _CreateOnlyBucket:
    """Cloud Storage as roles/storage.objectCreator sees it, where IAM answers before the
    precondition: writing an existing name is a 403, not a 412."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def blob(self, name: str) -> Any:
        bucket = self

        class Blob:
            def upload_from_string(self, data: bytes, **_: Any) -> None:
                if name in bucket.objects:
                    raise google_exceptions.Forbidden("storage.objects.delete denied")
                bucket.objects[name] = data

        return Blob()

    def get_blob(self, name: str, **_: Any) -> _Stored | None:
        return _Stored(self.objects[name]) if name in self.objects else None


class _Client:
    def __init__(self, bucket: _CreateOnlyBucket) -> None:
        self._bucket = bucket

    def bucket(self, _name: str) -> _CreateOnlyBucket:
        return self._bucket

    def close(self) -> None:
        pass


async def test_a_403_for_an_existing_object_is_judged_like_a_412() -> None:
    bucket = _CreateOnlyBucket()
    store = BlobStore(_Client(bucket), SOURCE_BUCKET)  # type: ignore[arg-type]
    await store.put("a/source.tar.gz", b"bytes", content_type="application/gzip")
    await store.put("a/source.tar.gz", b"bytes", content_type="application/gzip")  # no-op
    with pytest.raises(BlobExists):
        await store.put("a/source.tar.gz", b"other", content_type="application/gzip")


async def test_a_403_for_a_new_object_is_a_permission_problem() -> None:
    class Denied(_CreateOnlyBucket):
        def blob(self, name: str) -> Any:
            class Blob:
                def upload_from_string(self, data: bytes, **_: Any) -> None:
                    raise google_exceptions.Forbidden("storage.objects.create denied")

            return Blob()

    store = BlobStore(_Client(Denied()), SOURCE_BUCKET)  # type: ignore[arg-type]
    with pytest.raises(google_exceptions.Forbidden, match="create denied"):
        await store.put("a/source.tar.gz", b"bytes", content_type="application/gzip")
