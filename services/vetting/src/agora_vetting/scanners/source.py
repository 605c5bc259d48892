"""The source as scanned: a private copy of the agent's folder, and its digest.

Scanners never read the agent's folder itself but a copy made once, while it is digested: what
the digest names is exactly what every scanner saw, even if the folder changes meanwhile, and a
scanner cannot be steered by the host (no git, no symlinks out of the folder).

Skipped, in the copy and the digest alike: the folders in `IGNORED_DIRS` (caches, virtualenvs,
VCS metadata) and anything that is not a regular file (symlinks are not followed).

Digest: SHA-256 (hex) over, for each file in the order of its relative path ("/"-separated,
UTF-8; sorted by code point), the line `<path> NUL <sha256 of its bytes, hex> LF`. Stable across
machines and copies; any change of a file's bytes, name or presence changes it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

IGNORED_DIRS = frozenset(
    {
        "__pycache__",
        ".venv",
        "node_modules",
        ".git",
        ".hg",
        ".svn",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
    }
)
MAX_SOURCE_FILES = 20_000
MAX_SOURCE_BYTES = 200 * 1024 * 1024
_CHUNK = 1024 * 1024


class SourceTooLarge(Exception):
    """The folder holds more than a scan reads; nothing was scanned."""


@dataclass(frozen=True)
class SourceTree:
    digest: str
    files: tuple[str, ...]  # relative "/"-separated paths, sorted
    bytes: int


def list_files(root: Path) -> list[str]:
    """The regular files under `root` a scan reads, as sorted relative "/"-paths."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS]
        base = Path(directory)
        for name in filenames:
            path = base / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def source_digest(root: Path) -> str:
    """The digest of `root` as a scan would compute it (without copying anything)."""
    return _walk(root, None, max_files=None, max_bytes=None).digest


def copy_source(
    root: Path,
    dest: Path,
    *,
    max_files: int | None = MAX_SOURCE_FILES,
    max_bytes: int | None = MAX_SOURCE_BYTES,
) -> SourceTree:
    """Copy what a scan reads from `root` into the new folder `dest`, digesting it on the way."""
    return _walk(root, dest, max_files=max_files, max_bytes=max_bytes)


def _walk(
    root: Path, dest: Path | None, *, max_files: int | None, max_bytes: int | None
) -> SourceTree:
    files = list_files(root)
    if max_files is not None and len(files) > max_files:
        raise SourceTooLarge(f"{len(files)} files, over the cap of {max_files}")
    if dest is not None:
        dest.mkdir(parents=True)
    total = 0
    digest = hashlib.sha256()
    for relative in files:
        content = hashlib.sha256()
        out = None
        if dest is not None:
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            out = target.open("xb")
        try:
            # O_NOFOLLOW: a file swapped for a symlink since it was listed is not followed.
            fd = os.open(root / relative, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    total += len(chunk)
                    if max_bytes is not None and total > max_bytes:
                        raise SourceTooLarge(f"over {max_bytes // (1024 * 1024)} MiB")
                    content.update(chunk)
                    if out is not None:
                        out.write(chunk)
        finally:
            if out is not None:
                out.close()
        name = relative.encode("utf-8", "surrogateescape")
        digest.update(name + b"\0" + content.hexdigest().encode() + b"\n")
    return SourceTree(digest=digest.hexdigest(), files=tuple(files), bytes=total)
