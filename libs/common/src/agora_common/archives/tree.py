"""The members read so far, shared by both formats: names made safe, duplicates, conflicts,
counts and sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agora_common.archives.limits import (
    ArchiveLimits,
    ArchiveUnsafe,
    check_ratio,
    problem,
    too_large,
)

DRIVE = re.compile(r"^[A-Za-z]:")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Tree:
    """The files and directories read so far: names, duplicates, conflicts, counts and sizes."""

    def __init__(self, limits: ArchiveLimits, archive_bytes: int) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.total = 0

    def add_dir(self, name: str) -> None:
        path = normalise(name, self.limits)
        if not path:  # "." or "./": the archive's root
            return
        if path in self.files:
            raise ArchiveUnsafe(details=[problem(name, f"'{path}' is both a file and a directory")])
        self._add_parents(name, path)
        self.dirs.add(path)
        if len(self.dirs) > self.limits.max_files:
            raise too_large("max_files", self.limits.max_files, what="directories")

    def check_file(self, name: str, claimed_size: int) -> str:
        """The normalised path of a new regular file, after every check its header allows."""
        path = normalise(name, self.limits)
        if not path:
            raise ArchiveUnsafe(details=[problem(name, "a file with an empty name")])
        if path in self.files:
            raise ArchiveUnsafe(details=[problem(name, f"duplicate path '{path}'")])
        if path in self.dirs:
            raise ArchiveUnsafe(details=[problem(name, f"'{path}' is both a file and a directory")])
        if len(self.files) + 1 > self.limits.max_files:
            raise too_large("max_files", self.limits.max_files, member=name)
        if claimed_size > self.limits.max_file_bytes:
            raise too_large("max_file_bytes", self.limits.max_file_bytes, member=name)
        self._add_parents(name, path)
        return path

    def read_file(self, name: str, path: str, chunks: Iterator[bytes]) -> None:
        """Read one file's content chunk by chunk, counting it against every cap as it comes."""
        parts: list[bytes] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            self.total += len(chunk)
            if size > self.limits.max_file_bytes:
                raise too_large("max_file_bytes", self.limits.max_file_bytes, member=name)
            if self.total > self.limits.max_total_bytes:
                raise too_large("max_total_bytes", self.limits.max_total_bytes, member=name)
            check_ratio(self.total, self.archive_bytes, self.limits, name)
            parts.append(chunk)
        self.files[path] = b"".join(parts)

    def _add_parents(self, name: str, path: str) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in self.files:
                raise ArchiveUnsafe(
                    details=[problem(name, f"'{parent}' is both a file and a directory")]
                )
            self.dirs.add(parent)


def normalise(name: str, limits: ArchiveLimits) -> str:
    """A member's name as a relative "/" path, or ArchiveUnsafe saying why it cannot be one."""

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[problem(name, reason)])

    if "\x00" in name:
        raise refuse("NUL in the name")
    if CONTROL.search(name):
        raise refuse("control character in the name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # tarfile's surrogateescape for bytes that are not UTF-8
        raise refuse("the name is not valid UTF-8") from None
    if "\\" in name:
        raise refuse("backslash in the name")
    if DRIVE.match(name):
        raise refuse("drive letter in the name")
    if name.startswith("/"):
        raise refuse("absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise refuse("'..' in the path")
    if len(parts) > limits.max_depth:
        raise refuse(f"deeper than {limits.max_depth} levels")
    path = "/".join(parts)
    if len(path.encode("utf-8")) > limits.max_path_length:
        raise refuse(f"path longer than {limits.max_path_length} bytes")
    return path
