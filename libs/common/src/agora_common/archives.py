"""Reading user-supplied package archives (.tar.gz/.tgz and .zip) without trusting them.

An uploaded archive is a denial-of-service and path-traversal risk: a gzip or zip bomb, a member
whose header lies about its size, `../` or absolute names, links that point out of the tree,
device files, a million tiny members. `read_archive` reads one entirely in memory, under
`ArchiveLimits`, and returns only regular files, by normalised relative "/" path:

- The format comes from the magic bytes (gzip: a tar inside; zip), never from a file name.
- Sizes are counted from the bytes actually decompressed, read in chunks, never from headers:
  a header that claims more than a cap is refused at once, one that claims less is caught by
  the count (or, in a zip, by its CRC; in a tar, by what follows it being no header).
- Refused with `ArchiveUnsafe` (422, `details` name the member and the reason): absolute names,
  `..` components, backslashes, drive letters, NUL or other control characters, names that are
  not UTF-8, over-long or over-deep paths, duplicate files, a path that is both a file and a
  directory, symbolic and hard links (any link, wherever it points), device files, FIFOs,
  sparse files and unknown member types, encrypted zip members, and a decompression ratio over
  the cap. `ArchiveTooLarge` (413): the archive, one file, all files or the number of files
  over its cap. `ArchiveInvalid` (422): unknown formats, truncated or corrupt archives.
- Directories are allowed, and implied by the files' paths; empty ones are not returned.
- Paths are kept as given: a single top-level folder (`pkg-1.0/...`) is not stripped.

`unpack_archive` writes what `read_archive` returns into an empty directory, mode 0644, so a
refused archive writes nothing and an accepted one writes nothing outside it.

Only the standard library: tarfile and zipfile through their public APIs, zlib for gzip. The
tar's gzip stream is decompressed first, under the caps, and the tar read from memory: tarfile
reads a member's pax or GNU long-name header whole, and skips unread data without handing it
to anyone, so a count kept beside `extractfile` alone would bound neither memory nor work.
Nothing is extracted by tarfile or zipfile (no `extractall`): each member is read through
`extractfile` / `ZipFile.open` in chunks, against a running count.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora_common.errors import AgoraError, PayloadTooLarge, ValidationFailed

__all__ = [
    "ArchiveError",
    "ArchiveInvalid",
    "ArchiveLimits",
    "ArchiveTooLarge",
    "ArchiveUnsafe",
    "read_archive",
    "unpack_archive",
]

MiB = 1024 * 1024

# Bytes read or decompressed per step.
_CHUNK = 64 * 1024
# The ratio is judged once this much has been unpacked: a small archive of repetitive text may
# well compress 1000:1 and is harmless; what the ratio stops is a bomb, which has to be big.
_RATIO_FLOOR = 1 * MiB
# What the tar stream may carry besides file bytes, per entry: its header, a pax or GNU
# long-name header and its data block, and up to one block of padding.
_TAR_ENTRY_OVERHEAD = 4 * tarfile.BLOCKSIZE
# The end-of-archive blocks and the padding of the last record.
_TAR_TRAILER = tarfile.RECORDSIZE + 2 * tarfile.BLOCKSIZE
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; the end record (empty zip)
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Member names echoed back in error details are cut to this length.
_SHOWN_NAME = 300


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on one archive. Sizes are bytes; the ratio is unpacked over packed bytes."""

    max_archive_bytes: int = 10 * MiB
    max_files: int = 2000  # regular files; directories are capped at the same number
    max_total_bytes: int = 50 * MiB
    max_file_bytes: int = 10 * MiB
    max_ratio: float = 200
    max_path_length: int = 255  # of the normalised path, in UTF-8 bytes
    max_depth: int = 20  # path components


class ArchiveError(AgoraError):
    """Base of the three refusals below, for callers that handle them alike."""


class ArchiveTooLarge(ArchiveError, PayloadTooLarge):
    code, message = "ARCHIVE_TOO_LARGE", "The archive is over a size limit"


class ArchiveUnsafe(ArchiveError, ValidationFailed):
    code, message = "ARCHIVE_UNSAFE", "The archive has a member that is refused"


class ArchiveInvalid(ArchiveError, ValidationFailed):
    code, message = "ARCHIVE_INVALID", "The archive is not a valid .tar.gz or .zip"


def read_archive(data: bytes, limits: ArchiveLimits = ArchiveLimits()) -> dict[str, bytes]:
    """The regular files of a .tar.gz/.tgz or .zip archive, by normalised path, sorted.

    Raises ArchiveTooLarge, ArchiveUnsafe or ArchiveInvalid (see the module's docstring).
    """
    if len(data) > limits.max_archive_bytes:
        raise _too_large("max_archive_bytes", limits.max_archive_bytes, size=len(data))
    if data.startswith(_GZIP_MAGIC):
        files = _read_tar_gz(data, limits)
    elif data.startswith(_ZIP_MAGICS):
        files = _read_zip(data, limits)
    else:
        raise ArchiveInvalid("Unknown archive format: expected a .tar.gz (gzip) or a .zip")
    return dict(sorted(files.items()))


def unpack_archive(data: bytes, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
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
                raise ArchiveUnsafe(details=[_member(path, "resolves outside the destination")])
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


# --- the members' tree, shared by both formats ----------------------------------------------------


class _Tree:
    """The files and directories read so far: names, duplicates, conflicts, counts and sizes."""

    def __init__(self, limits: ArchiveLimits, archive_bytes: int) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.total = 0

    def add_dir(self, name: str) -> None:
        path = _normalise(name, self.limits)
        if not path:  # "." or "./": the archive's root
            return
        if path in self.files:
            raise ArchiveUnsafe(details=[_member(name, f"'{path}' is both a file and a directory")])
        self._add_parents(name, path)
        self.dirs.add(path)
        if len(self.dirs) > self.limits.max_files:
            raise _too_large("max_files", self.limits.max_files, what="directories")

    def check_file(self, name: str, claimed_size: int) -> str:
        """The normalised path of a new regular file, after every check its header allows."""
        path = _normalise(name, self.limits)
        if not path:
            raise ArchiveUnsafe(details=[_member(name, "a file with an empty name")])
        if path in self.files:
            raise ArchiveUnsafe(details=[_member(name, f"duplicate path '{path}'")])
        if path in self.dirs:
            raise ArchiveUnsafe(details=[_member(name, f"'{path}' is both a file and a directory")])
        if len(self.files) + 1 > self.limits.max_files:
            raise _too_large("max_files", self.limits.max_files, member=name)
        if claimed_size > self.limits.max_file_bytes:
            raise _too_large("max_file_bytes", self.limits.max_file_bytes, member=name)
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
                raise _too_large("max_file_bytes", self.limits.max_file_bytes, member=name)
            if self.total > self.limits.max_total_bytes:
                raise _too_large("max_total_bytes", self.limits.max_total_bytes, member=name)
            _check_ratio(self.total, self.archive_bytes, self.limits, name)
            parts.append(chunk)
        self.files[path] = b"".join(parts)

    def _add_parents(self, name: str, path: str) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in self.files:
                raise ArchiveUnsafe(
                    details=[_member(name, f"'{parent}' is both a file and a directory")]
                )
            self.dirs.add(parent)


def _normalise(name: str, limits: ArchiveLimits) -> str:
    """A member's name as a relative "/" path, or ArchiveUnsafe saying why it cannot be one."""

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[_member(name, reason)])

    if "\x00" in name:
        raise refuse("NUL in the name")
    if _CONTROL.search(name):
        raise refuse("control character in the name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # tarfile's surrogateescape for bytes that are not UTF-8
        raise refuse("the name is not valid UTF-8") from None
    if "\\" in name:
        raise refuse("backslash in the name")
    if _DRIVE.match(name):
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


def _check_ratio(unpacked: int, packed: int, limits: ArchiveLimits, member: str | None) -> None:
    if unpacked > _RATIO_FLOOR and unpacked > limits.max_ratio * packed:
        reason = f"decompression ratio over {limits.max_ratio:g} (an archive bomb)"
        raise ArchiveUnsafe(details=[_member(member or "(archive)", reason)])


def _member(name: str, reason: str) -> dict[str, str]:
    shown = name if len(name) <= _SHOWN_NAME else name[:_SHOWN_NAME] + "..."
    return {"member": shown, "reason": reason}


def _too_large(limit: str, maximum: int, **about: Any) -> ArchiveTooLarge:
    what = about.pop("what", "files" if limit == "max_files" else "bytes")
    member = about.pop("member", None)
    detail: dict[str, Any] = {"limit": limit, "max": maximum, **about}
    if member is not None:
        detail["member"] = _member(member, "")["member"]
    return ArchiveTooLarge(f"The archive is over its limit of {maximum} {what}", details=[detail])


# --- .tar.gz --------------------------------------------------------------------------------------


def _read_tar_gz(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    # File bytes are capped below, per file and in all; the stream may carry headers besides.
    stream_cap = (
        limits.max_total_bytes + 2 * (limits.max_files + 1) * _TAR_ENTRY_OVERHEAD + _TAR_TRAILER
    )
    tar_bytes = _gunzip(data, stream_cap, limits)
    tree = _Tree(limits, len(data))
    buffer = io.BytesIO(tar_bytes)
    try:
        with tarfile.open(fileobj=buffer, mode="r:") as archive:
            for member in archive:
                _read_tar_member(archive, member, tree)
            # tarfile takes an unreadable header after the first for the end of the archive;
            # a real end is zero blocks to the last byte. Else a member's header lied about
            # its size (its data ran on where a header should be), or a header is corrupt.
            end = max(buffer.tell() - tarfile.BLOCKSIZE, 0)
            if tar_bytes[end:].strip(b"\x00"):
                raise ArchiveInvalid(
                    "The tar archive is corrupt: a member's header does not match its data",
                    details=[{"offset": end}],
                )
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        raise ArchiveInvalid(f"The tar archive is corrupt or truncated ({exc})") from None
    return tree.files


def _read_tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, tree: _Tree) -> None:
    name = member.name

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[_member(name, reason)])

    if member.issym():
        raise refuse(f"symbolic link to '{member.linkname}' (links are refused)")
    if member.islnk():
        raise refuse(f"hard link to '{member.linkname}' (links are refused)")
    if member.isdev():  # character and block devices, FIFOs
        raise refuse("device file or FIFO")
    if member.issparse():
        raise refuse("sparse file")
    if member.isdir():
        tree.add_dir(name)
        return
    if not member.isreg():
        raise refuse(f"unsupported member type {member.type!r}")
    path = tree.check_file(name, member.size)
    content = archive.extractfile(member)
    if content is None:  # not for a regular file; kept for the type checker
        raise refuse("unreadable member")
    with content:
        tree.read_file(name, path, iter(lambda: content.read(_CHUNK), b""))


def _gunzip(data: bytes, cap: int, limits: ArchiveLimits) -> bytes:
    """The whole gzip stream (every member), decompressed in chunks under `cap` and the ratio."""
    out = io.BytesIO()
    pending = memoryview(data)
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a gzip member, its CRC checked
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, _CHUNK)
                pending = memoryview(inflater.unconsumed_tail)
                if not chunk and not pending:
                    raise ArchiveInvalid("The gzip stream is truncated")
                out.write(chunk)
                if out.tell() > cap:
                    raise _too_large("max_total_bytes", limits.max_total_bytes)
                _check_ratio(out.tell(), len(data), limits, None)
        except zlib.error as exc:
            raise ArchiveInvalid(f"The gzip stream is corrupt ({exc})") from None
        rest = inflater.unused_data
        if rest.startswith(_GZIP_MAGIC):  # another member: gzip streams may be concatenated
            pending = memoryview(rest)
            continue
        if rest.strip(b"\x00"):
            raise ArchiveInvalid("The gzip stream is followed by other data")
        return out.getvalue()


# --- .zip -----------------------------------------------------------------------------------------


def _read_zip(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    tree = _Tree(limits, len(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            # Cheap before any reading: the entries are in the central directory already.
            if len(members) > 2 * limits.max_files:
                raise _too_large("max_files", limits.max_files, entries=len(members))
            for info in members:
                _read_zip_member(archive, info, tree)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveInvalid(f"The zip archive is corrupt or truncated ({exc})") from None
    except (zlib.error, NotImplementedError, RuntimeError) as exc:
        raise ArchiveInvalid(f"The zip archive cannot be read ({exc})") from None
    return tree.files


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, tree: _Tree) -> None:
    # zipfile cuts a name at its first NUL; the name as stored keeps it.
    name = info.orig_filename

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[_member(name, reason)])

    mode = info.external_attr >> 16 if info.create_system == 3 else 0  # 3: Unix
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise refuse("symbolic link (links are refused)")
    if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
        raise refuse("device file, FIFO or socket")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise refuse(f"unsupported file type {oct(kind)}")
    if info.is_dir() or kind == stat.S_IFDIR:
        tree.add_dir(name)
        return
    if info.flag_bits & 0x1:
        raise refuse("encrypted member")
    if info.compress_type not in _ZIP_METHODS:
        raise ArchiveInvalid(
            "The zip archive uses an unsupported compression method",
            details=[_member(name, f"compression method {info.compress_type}")],
        )
    path = tree.check_file(name, info.file_size)
    with archive.open(info) as content:
        tree.read_file(name, path, iter(lambda: content.read(_CHUNK), b""))
