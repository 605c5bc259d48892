"""Package sources on Cloud Storage: create-only writes, bounded reads, outages as fast 503s.

`BlobStore` is one bucket behind three calls:

- `put(name, data, content_type=...)` creates an object and never replaces one: the upload carries
  `ifGenerationMatch=0`. Should the object exist already, with the same bytes (its md5 and crc32c
  match), the put is a no-op, so a retried request succeeds; with other bytes it is a 409
  `BLOB_EXISTS`.
- `get(name, max_bytes=...)` reads an object whole, after its metadata has shown it is no larger
  than `max_bytes` (413 `BLOB_TOO_LARGE` otherwise, nothing downloaded); the download is of that
  generation and its crc32c is checked. A missing object is a 404 `BLOB_NOT_FOUND`.
- `exists(name)`.

google-cloud-storage is synchronous: each call runs in a worker thread (`asyncio.to_thread`),
bounded by an overall timeout, with each request bounded too (connect, read) and retried on
transient failures (429, 5xx, connection errors) with a short backoff for at most
`retry_deadline_s`. A dependency that is down, slow or failing answers the shared 503 envelope
(`errors.storage_outage`) within those bounds, never a hang; a download that fails its checksum
is a 502. A refused name (see `check_blob_name`) is a ValueError: names are made by the services,
never taken from a request as they are.

`gs://bucket/name` URLs: `blob_url` and `parse_blob_url`, both validating.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import logging
import re
from collections.abc import Callable
from typing import TypeVar

import google_crc32c
import requests
from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.cloud import storage
from google.cloud.storage import exceptions as storage_exceptions
from google.cloud.storage.retry import DEFAULT_RETRY

from agora_common.clients import make_storage_client
from agora_common.errors import (
    BadGateway,
    Conflict,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    storage_outage,
)
from agora_common.settings import ServiceSettings, is_bucket_name

__all__ = [
    "BlobExists",
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "blob_url",
    "check_blob_name",
    "make_blob_store",
    "parse_blob_url",
]

log = logging.getLogger("agora.blobs")
T = TypeVar("T")

GS_SCHEME = "gs://"
MAX_NAME_BYTES = 1024  # Cloud Storage's own limit
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Statuses worth another attempt, and the ones that mean "the dependency is unavailable".
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_OUTAGES: tuple[type[BaseException], ...] = (
    TimeoutError,
    ConnectionError,
    requests.RequestException,  # connection refused or reset, timeouts, broken transfers
    http.client.HTTPException,
    auth_exceptions.TransportError,  # credentials could not be fetched
    google_exceptions.RetryError,  # retries ran out
)


class BlobExists(Conflict):
    code, message = "BLOB_EXISTS", "An object with other content exists under that name"


class BlobNotFound(NotFound):
    code, message = "BLOB_NOT_FOUND", "No such object"


class BlobTooLarge(PayloadTooLarge):
    code, message = "BLOB_TOO_LARGE", "The object is larger than allowed"


def check_blob_name(name: str) -> str:
    """`name` if it is an object name this store writes and reads, else ValueError.

    Cloud Storage's rules (1-1024 bytes of UTF-8, no control characters, not `.well-known/
    acme-challenge/`), and path hygiene besides: no leading "/", no backslash, no empty, "." or
    ".." segment, so a name means one thing to every tool that treats it as a path.
    """
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("an object name must be valid UTF-8") from None
    if not 0 < size <= MAX_NAME_BYTES:
        raise ValueError(f"an object name has 1 to {MAX_NAME_BYTES} bytes")
    if _CONTROL.search(name) or "\\" in name:
        raise ValueError(f"object name {name!r} has a control character or a backslash")
    if any(segment in ("", ".", "..") for segment in name.split("/")):
        raise ValueError(f"object name {name!r} has an empty, '.' or '..' segment")
    if name.startswith(".well-known/acme-challenge/"):
        raise ValueError(f"object name {name!r} is reserved")
    return name


def _check_bucket(bucket: str) -> str:
    if not is_bucket_name(bucket):
        raise ValueError(f"{bucket!r} is not a Cloud Storage bucket name")
    return bucket


def blob_url(bucket: str, name: str) -> str:
    """`gs://bucket/name`, both parts validated."""
    return f"{GS_SCHEME}{_check_bucket(bucket)}/{check_blob_name(name)}"


def parse_blob_url(url: str) -> tuple[str, str]:
    """(bucket, name) of a `gs://bucket/name` URL; ValueError if it is not a valid one."""
    if not url.startswith(GS_SCHEME):
        raise ValueError(f"not a gs:// URL: {url[:100]!r}")
    bucket, slash, name = url[len(GS_SCHEME) :].partition("/")
    if not slash:
        raise ValueError(f"a gs:// URL names an object: {url[:100]!r}")
    return _check_bucket(bucket), check_blob_name(name)


def md5_base64(data: bytes) -> str:
    """The md5 of `data` as Cloud Storage reports it (`md5Hash`: base64 of the digest)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def crc32c_base64(data: bytes) -> str:
    """The crc32c of `data` as Cloud Storage reports it (`crc32c`: base64, big-endian)."""
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def _same_bytes(existing: storage.Blob, data: bytes) -> bool:
    """Whether a stored object holds `data`: same size, and every hash it has matches."""
    if existing.size != len(data):
        return False
    hashes = [(existing.md5_hash, md5_base64), (existing.crc32c, crc32c_base64)]
    known = [(value, compute) for value, compute in hashes if value]
    return bool(known) and all(value == compute(data) for value, compute in known)


def is_outage(exc: BaseException) -> bool:
    """Whether an error from the client means Cloud Storage is unavailable (a 503 for us)."""
    if isinstance(exc, _OUTAGES):
        return True
    if isinstance(exc, google_exceptions.GoogleAPICallError):
        return exc.code in _TRANSIENT_STATUSES
    if isinstance(exc, storage_exceptions.InvalidResponse):
        return exc.response.status_code in _TRANSIENT_STATUSES
    return False


class BlobStore:
    """One bucket: create-only `put`, bounded `get`, `exists` (see the module's docstring).

    `timeout_s` bounds a whole call (retries included) and each request's read; a request's
    connect is bounded by `connect_timeout_s`; transient failures are retried for at most
    `retry_deadline_s`.
    """

    def __init__(
        self,
        client: storage.Client,
        bucket: str,
        *,
        timeout_s: float = 15.0,
        connect_timeout_s: float = 2.0,
        retry_deadline_s: float = 2.0,
    ) -> None:
        self._client = client
        self.bucket_name = _check_bucket(bucket)
        self._bucket = client.bucket(bucket)
        self._timeout_s = timeout_s
        self._request_timeout = (connect_timeout_s, timeout_s)
        self._retry: Retry = DEFAULT_RETRY.with_delay(
            initial=0.05, maximum=0.5, multiplier=2.0
        ).with_timeout(retry_deadline_s)

    def url(self, name: str) -> str:
        """`gs://bucket/name` of an object of this store."""
        return blob_url(self.bucket_name, name)

    async def put(self, name: str, data: bytes, *, content_type: str) -> None:
        """Create object `name` with `data`; a no-op if it holds these bytes, else BlobExists."""
        check_blob_name(name)

        def create() -> None:
            for _ in range(2):  # a second try only if the object vanished between the two calls
                try:
                    self._bucket.blob(name).upload_from_string(
                        data,
                        content_type=content_type,
                        if_generation_match=0,
                        checksum="auto",
                        timeout=self._request_timeout,
                        retry=self._retry,
                    )
                    return
                except (google_exceptions.PreconditionFailed, google_exceptions.Forbidden) as exc:
                    # An existing object: 412, or 403 where the writer may create but not
                    # overwrite (roles/storage.objectCreator) and that is checked first.
                    refusal = exc
                    existing = self._bucket.get_blob(
                        name, timeout=self._request_timeout, retry=self._retry
                    )
                if existing is None:
                    if isinstance(refusal, google_exceptions.Forbidden):
                        raise refusal  # not for an existing object: a real permission problem
                    continue
                if _same_bytes(existing, data):
                    return
                raise BlobExists(details=[{"object": self.url(name)}])
            raise BlobExists(details=[{"object": self.url(name), "reason": "changing"}])

        await self._call("put", create)

    async def get(self, name: str, *, max_bytes: int) -> bytes:
        """The bytes of object `name`: BlobNotFound if absent, BlobTooLarge if over max_bytes."""
        check_blob_name(name)

        def fetch() -> bytes:
            blob = self._bucket.get_blob(name, timeout=self._request_timeout, retry=self._retry)
            if blob is None:
                raise BlobNotFound(details=[{"object": self.url(name)}])
            if blob.size is None or blob.size > max_bytes:
                raise BlobTooLarge(
                    details=[{"object": self.url(name), "size": blob.size, "max": max_bytes}]
                )
            # The Blob names its generation: this downloads the object just sized, or nothing.
            try:
                data = blob.download_as_bytes(
                    timeout=self._request_timeout, retry=self._retry, checksum="auto"
                )
            except google_exceptions.NotFound:  # deleted since its metadata was read
                raise BlobNotFound(details=[{"object": self.url(name)}]) from None
            if not isinstance(data, bytes) or len(data) > max_bytes:  # its metadata lied
                raise BlobTooLarge(details=[{"object": self.url(name), "max": max_bytes}])
            return data

        return await self._call("get", fetch)

    async def exists(self, name: str) -> bool:
        """Whether object `name` exists."""
        check_blob_name(name)

        def probe() -> bool:
            exists: bool = self._bucket.blob(name).exists(
                timeout=self._request_timeout, retry=self._retry
            )
            return exists

        return await self._call("exists", probe)

    def close(self) -> None:
        """Let go of the client's connections (the app's shutdown)."""
        self._client.close()

    async def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self._timeout_s)
        except (BlobExists, BlobNotFound, BlobTooLarge):
            raise
        except storage_exceptions.DataCorruption:
            log.warning("blob download failed its checksum", extra={"operation": what})
            raise BadGateway("Cloud Storage returned corrupt data", code="BLOB_CORRUPT") from None
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning(
                "cloud storage unavailable",
                extra={"operation": what, "error": type(exc).__name__},
            )
            outage: ServiceUnavailable = storage_outage()
            raise outage from None


def make_blob_store(settings: ServiceSettings) -> BlobStore | None:
    """The store of the settings' `source_bucket`, or None where they name no bucket."""
    if not settings.source_bucket:
        return None
    return BlobStore(
        make_storage_client(settings),
        settings.source_bucket,
        timeout_s=settings.http_read_timeout_s,
        connect_timeout_s=settings.http_connect_timeout_s,
        retry_deadline_s=settings.dependency_timeout_s,
    )
