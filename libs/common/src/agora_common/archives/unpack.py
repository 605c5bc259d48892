"""Writing an accepted archive into an empty directory, and nothing outside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from agora_common.archives.formats import read_archive
from agora_common.archives.limits import DEFAULT_LIMITS, ArchiveLimits, ArchiveUnsafe, problem


def unpack_archive(data: bytes, dest: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> list[str]:
    """Write the archive's regular files under `dest` (absent or empty), mode 0644.

    Everything is read and checked before the first write, so a refused archive leaves `dest`
    as it was. Returns the written paths, relative to `dest`, sorted. Should a write fail
    (a full disk), what was written is removed again before the error is raised.
    """
    dest = Path(dest)
    if dest.exists():
        if not dest.is_dir():
            raise NotADirectoryError(f"{dest} is not a directory")
        if any(dest.iterdir()):
            raise ValueError(f"{dest} is not empty")
    files = read_archive(data, limits)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        for path, content in files.items():
            target = root.joinpath(*path.split("/"))
            # read_archive allows no way out; this is the belt to its braces.
            if not target.resolve().is_relative_to(root):
                raise ArchiveUnsafe(details=[problem(path, "resolves outside the destination")])
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            _write_new_file(target, content)
    except BaseException:
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        raise
    return list(files)


def _write_new_file(target: Path, content: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
