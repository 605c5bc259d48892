"""The two formats, told apart by their magic bytes: a tar inside gzip, and zip. Each member is
read through the public tarfile/zipfile APIs in chunks, against the tree's running counts."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib

from agora_common.archives.limits import (
    CHUNK,
    DEFAULT_LIMITS,
    ArchiveError,
    ArchiveInvalid,
    ArchiveLimits,
    ArchiveUnsafe,
    check_ratio,
    problem,
    too_large,
)
from agora_common.archives.tree import Tree

# What the tar stream may carry besides file bytes, per entry: its header, a pax or GNU
# long-name header and its data block, and up to one block of padding.
TAR_ENTRY_OVERHEAD = 4 * tarfile.BLOCKSIZE
# The end-of-archive blocks and the padding of the last record.
TAR_TRAILER = tarfile.RECORDSIZE + 2 * tarfile.BLOCKSIZE
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; the end record (empty zip)
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def read_archive(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The regular files of a .tar.gz/.tgz or .zip archive, by normalised path, sorted.

    Raises ArchiveTooLarge, ArchiveUnsafe or ArchiveInvalid (see the module's docstring).
    """
    if len(data) > limits.max_archive_bytes:
        raise too_large("max_archive_bytes", limits.max_archive_bytes, size=len(data))
    if data.startswith(GZIP_MAGIC):
        files = read_tar_gz(data, limits)
    elif data.startswith(ZIP_MAGICS):
        files = read_zip(data, limits)
    else:
        raise ArchiveInvalid("Unknown archive format: expected a .tar.gz (gzip) or a .zip")
    return dict(sorted(files.items()))


# --- .tar.gz --------------------------------------------------------------------------------------


def read_tar_gz(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    # File bytes are capped below, per file and in all; the stream may carry headers besides.
    stream_cap = (
        limits.max_total_bytes + 2 * (limits.max_files + 1) * TAR_ENTRY_OVERHEAD + TAR_TRAILER
    )
    tar_bytes = _gunzip(data, stream_cap, limits)
    tree = Tree(limits, len(data))
    buffer = io.BytesIO(tar_bytes)
    try:
        with tarfile.open(fileobj=buffer, mode="r:") as archive:
            for member in archive:
                _read_tarproblem(archive, member, tree)
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


def _read_tarproblem(archive: tarfile.TarFile, member: tarfile.TarInfo, tree: Tree) -> None:
    name = member.name

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[problem(name, reason)])

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
        tree.read_file(name, path, iter(lambda: content.read(CHUNK), b""))


def _gunzip(data: bytes, cap: int, limits: ArchiveLimits) -> bytes:
    """The whole gzip stream (every member), decompressed in chunks under `cap` and the ratio."""
    out = io.BytesIO()
    pending = memoryview(data)
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a gzip member, its CRC checked
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, CHUNK)
                pending = memoryview(inflater.unconsumed_tail)
                if not chunk and not pending:
                    raise ArchiveInvalid("The gzip stream is truncated")
                out.write(chunk)
                if out.tell() > cap:
                    raise too_large("max_total_bytes", limits.max_total_bytes)
                check_ratio(out.tell(), len(data), limits, None)
        except zlib.error as exc:
            raise ArchiveInvalid(f"The gzip stream is corrupt ({exc})") from None
        rest = inflater.unused_data
        if rest.startswith(GZIP_MAGIC):  # another member: gzip streams may be concatenated
            pending = memoryview(rest)
            continue
        if rest.strip(b"\x00"):
            raise ArchiveInvalid("The gzip stream is followed by other data")
        return out.getvalue()


# --- .zip -----------------------------------------------------------------------------------------


def read_zip(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    tree = Tree(limits, len(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            # Cheap before any reading: the entries are in the central directory already.
            if len(members) > 2 * limits.max_files:
                raise too_large("max_files", limits.max_files, entries=len(members))
            for info in members:
                _read_zipproblem(archive, info, tree)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveInvalid(f"The zip archive is corrupt or truncated ({exc})") from None
    except (zlib.error, NotImplementedError, RuntimeError) as exc:
        raise ArchiveInvalid(f"The zip archive cannot be read ({exc})") from None
    return tree.files


def _read_zipproblem(archive: zipfile.ZipFile, info: zipfile.ZipInfo, tree: Tree) -> None:
    # zipfile cuts a name at its first NUL; the name as stored keeps it.
    name = info.orig_filename

    def refuse(reason: str) -> ArchiveUnsafe:
        return ArchiveUnsafe(details=[problem(name, reason)])

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
    if info.compress_type not in ZIP_METHODS:
        raise ArchiveInvalid(
            "The zip archive uses an unsupported compression method",
            details=[problem(name, f"compression method {info.compress_type}")],
        )
    path = tree.check_file(name, info.file_size)
    with archive.open(info) as content:
        tree.read_file(name, path, iter(lambda: content.read(CHUNK), b""))
