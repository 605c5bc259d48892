"""Submitted packages as local folders: fetched from the source bucket, checked, unpacked once.

The local runtime runs an agent from a folder (`python -m agora_<name>`); a submitted tool's
source is an archive in the bucket (`gs://<bucket>/packages/sha256-<hex>.tar.gz`). Its bytes
must hash to the digest in its name, its archive passes the same checks as at submission, and it
must hold exactly one `src/agora_<name>/__main__.py`. It is unpacked into a staging folder and
renamed into place, so a folder that exists is complete: `<root>/<digest prefix>/<name>/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from pathlib import Path

from agora_common.archives import ArchiveLimits, read_archive, unpack_archive
from agora_common.blobs import BlobStore, parse_blob_url
from agora_common.errors import AgoraError
from agora_executor.runtime.base import DeployFailed

_NAME = re.compile(r"packages/sha256-([0-9a-f]{64})\.tar\.gz")
_ENTRY = re.compile(r"src/agora_([a-z][a-z0-9_]*)/__main__\.py")


class PackageFolders:
    def __init__(self, blobs: BlobStore | None, root: Path, limits: ArchiveLimits) -> None:
        self._blobs = blobs
        self._root = root
        self._limits = limits
        self._lock = asyncio.Lock()

    @property
    def root(self) -> Path:
        return self._root

    async def folder(self, url: str) -> Path:
        """The package's folder, unpacked now or by an earlier deploy."""
        try:
            _, name = parse_blob_url(url)
        except AgoraError:
            raise DeployFailed("The agent's package source is not a package URL") from None
        named = _NAME.fullmatch(name)
        if named is None:
            raise DeployFailed("The agent's package source is not a package URL")
        digest = named[1]
        home = self._root / digest[:32]
        async with self._lock:
            found = [p for p in home.iterdir() if p.is_dir()] if home.is_dir() else []
            if len(found) == 1:
                return found[0]
            return await self._unpack(name, digest, home)

    async def _unpack(self, name: str, digest: str, home: Path) -> Path:
        if self._blobs is None:
            raise DeployFailed("No source bucket is configured to fetch the package from")
        try:
            archive = await self._blobs.get(name, max_bytes=self._limits.max_archive_bytes)
        except AgoraError as exc:
            raise DeployFailed(f"The package could not be fetched ({exc.code})") from None
        if hashlib.sha256(archive).hexdigest() != digest:
            raise DeployFailed("The package's bytes do not match its digest")
        try:
            files = await asyncio.to_thread(read_archive, archive, self._limits)
        except AgoraError as exc:
            raise DeployFailed(f"The package is not a safe archive ({exc.code})") from None
        entries = sorted({m[1] for path in files if (m := _ENTRY.fullmatch(path))})
        if len(entries) != 1:
            raise DeployFailed("The package must hold exactly one src/agora_<name>/__main__.py")
        staging = self._root / f".{digest[:32]}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        folder = staging / entries[0].replace("_", "-")
        folder.mkdir(parents=True)
        await asyncio.to_thread(unpack_archive, archive, folder, self._limits)
        staging.rename(home)
        return home / folder.name
