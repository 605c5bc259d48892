"""Package archives are read under caps, and anything unsafe is refused before a byte is written."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from agora_common.archives import (
    ArchiveError,
    ArchiveInvalid,
    ArchiveLimits,
    ArchiveTooLarge,
    ArchiveUnsafe,
    read_archive,
    unpack_archive,
)

MiB = 1024 * 1024
DEFAULT = ArchiveLimits()
FILES = {
    "pkg/README.md": b"# pkg\n",
    "pkg/src/pkg/__init__.py": b"",
    "pkg/src/pkg/tool.py": b"def run():\n    return 42\n",
    "pkg/pyproject.toml": b'[project]\nname = "pkg"\n',
}


# --- building archives ----------------------------------------------------------------------------


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None], level: int = 6) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, content in members:
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return gzip.compress(raw.getvalue(), compresslevel=level, mtime=0)


def regular(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o755  # read back as 0644 all the same
    return info, content


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def directory(name: str) -> tuple[tarfile.TarInfo, None]:
    return special(name, tarfile.DIRTYPE)


def zip_bytes(
    *members: tuple[str, bytes], mode: int | None = None, method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=method) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if mode is not None:
                info.create_system = 3
                info.external_attr = mode << 16
            archive.writestr(info, content)
    return raw.getvalue()


def sample_tar_gz() -> bytes:
    return tar_gz(
        directory("pkg"),
        directory("pkg/src"),
        *(regular(name, content) for name, content in FILES.items()),
    )


def sample_zip() -> bytes:
    return zip_bytes(("pkg/", b""), *FILES.items())


def patch_tar_size(tar: bytes, member_index: int, size: int) -> bytes:
    """A tar whose `member_index`-th header claims `size`, its checksum fixed to match."""
    data = bytearray(tar)
    offset = 0
    for _ in range(member_index):
        claimed = int(data[offset + 124 : offset + 136].rstrip(b"\x00 ") or b"0", 8)
        offset += 512 + (claimed + 511) // 512 * 512
    data[offset + 124 : offset + 136] = b"%011o\x00" % size
    data[offset + 148 : offset + 156] = b" " * 8
    checksum = sum(data[offset : offset + 512])
    data[offset + 148 : offset + 156] = b"%06o\x00 " % checksum
    return bytes(data)


def plain_tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for info, content in members:
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return raw.getvalue()


def compressible(size: int) -> bytes:
    """Content that deflate compresses about 60:1: a 16 KiB random block, repeated."""
    block = os.urandom(16 * 1024)
    return (block * (size // len(block) + 1))[:size]


# --- assertions -----------------------------------------------------------------------------------


def refused(
    data: bytes,
    dest: Path,
    error: type[ArchiveError],
    code: str,
    limits: ArchiveLimits = DEFAULT,
) -> ArchiveError:
    """unpack_archive refuses `data` with `error`/`code`, and `dest` stays empty."""
    dest.mkdir(exist_ok=True)
    with pytest.raises(error) as caught:
        unpack_archive(data, dest, limits)
    assert caught.value.code == code
    assert caught.value.status_code == (413 if error is ArchiveTooLarge else 422)
    assert list(dest.iterdir()) == []
    return caught.value


def unsafe(data: bytes, dest: Path, member: str, reason: str) -> None:
    error = refused(data, dest, ArchiveUnsafe, "ARCHIVE_UNSAFE")
    assert error.details is not None
    assert error.details[0]["member"] == member
    assert reason in error.details[0]["reason"]


def too_large(data: bytes, dest: Path, limit: str, limits: ArchiveLimits = DEFAULT) -> None:
    error = refused(data, dest, ArchiveTooLarge, "ARCHIVE_TOO_LARGE", limits)
    assert error.details is not None
    assert error.details[0]["limit"] == limit


def invalid(data: bytes, dest: Path) -> ArchiveError:
    return refused(data, dest, ArchiveInvalid, "ARCHIVE_INVALID")


# --- what is read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [sample_tar_gz, sample_zip], ids=["tar.gz", "zip"])
def test_a_normal_archive_is_read_sorted_and_unpacked_0644(
    make: Callable[[], bytes], tmp_path: Path
) -> None:
    data = make()
    files = read_archive(data)
    assert files == dict(sorted(FILES.items()))
    assert list(files) == sorted(FILES)  # sorted, top-level folder kept

    dest = tmp_path / "out"
    assert unpack_archive(data, dest) == sorted(FILES)
    for name, content in FILES.items():
        written = dest / name
        assert written.read_bytes() == content
        assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == sorted(FILES)


def test_names_are_normalised_and_empty_directories_dropped(tmp_path: Path) -> None:
    data = tar_gz(
        directory("."),
        directory("./empty"),
        regular("./a//b/./c.txt", b"c"),
        regular("top.txt", b"t"),
    )
    assert read_archive(data) == {"a/b/c.txt": b"c", "top.txt": b"t"}


def test_a_tgz_of_several_gzip_members_is_one_stream() -> None:
    tar = plain_tar(regular("a.txt", b"a" * 1000))
    data = gzip.compress(tar[:512]) + gzip.compress(tar[512:])
    assert read_archive(data) == {"a.txt": b"a" * 1000}


def test_an_empty_archive_has_no_files() -> None:
    assert read_archive(tar_gz()) == {}
    assert read_archive(zip_bytes()) == {}


def test_unpack_refuses_a_destination_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "there.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        unpack_archive(sample_tar_gz(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["there.txt"]


# --- unsafe names and members ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.py", "'..'"),
        ("pkg/../../evil.py", "'..'"),
        ("/etc/passwd", "absolute path"),
        ("pkg\\..\\evil.py", "backslash"),
        ("C:/Windows/evil.py", "drive letter"),
        ("pkg/evil\n.py", "control character"),
    ],
)
@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_unsafe_name_is_refused(name: str, reason: str, kind: str, tmp_path: Path) -> None:
    benign = ("pkg/ok.py", b"ok")
    if kind == "tar.gz":
        data = tar_gz(regular(*benign), regular(name, b"x"))
    else:
        data = zip_bytes(benign, (name, b"x"))
    unsafe(data, tmp_path / "out", name, reason)


def test_a_nul_in_a_zip_name_is_refused_though_zipfile_would_cut_it(tmp_path: Path) -> None:
    # zipfile writes no NUL in a name: put it in the stored bytes (both headers) afterwards.
    data = zip_bytes(("evil.py#.txt", b"x")).replace(b"evil.py#.txt", b"evil.py\x00.txt")
    unsafe(data, tmp_path, "evil.py\x00.txt", "NUL")


def test_a_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info, content = regular("caf\udce9.py", b"x")  # the byte 0xE9, as tarfile reads it
        archive.addfile(info, io.BytesIO(content))
    error = refused(gzip.compress(raw.getvalue()), tmp_path, ArchiveUnsafe, "ARCHIVE_UNSAFE")
    assert error.details is not None
    assert "UTF-8" in error.details[0]["reason"]


def test_too_deep_and_too_long_paths_are_refused(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 21) + "/f.py"
    unsafe(tar_gz(regular(deep, b"x")), tmp_path / "deep", deep, "deeper than 20")
    long = "pkg/" + "x" * 252 + ".py"
    unsafe(zip_bytes((long, b"x")), tmp_path / "long", long, "longer than 255")
    assert read_archive(tar_gz(regular("/".join(["d"] * 19) + "/f.py", b"ok")))


def test_a_symlink_is_refused_wherever_it_points(tmp_path: Path) -> None:
    inside = tar_gz(regular("pkg/a.py", b"a"), special("pkg/b.py", tarfile.SYMTYPE, "a.py"))
    unsafe(inside, tmp_path / "inside", "pkg/b.py", "symbolic link")
    outside = tar_gz(special("pkg/etc", tarfile.SYMTYPE, "/etc"), regular("pkg/etc/x", b"x"))
    unsafe(outside, tmp_path / "outside", "pkg/etc", "links are refused")


def test_a_zip_symlink_is_refused(tmp_path: Path) -> None:
    data = zip_bytes(("pkg/link", b"/etc/passwd"), mode=stat.S_IFLNK | 0o777)
    unsafe(data, tmp_path, "pkg/link", "symbolic link")


def test_a_hard_link_is_refused(tmp_path: Path) -> None:
    data = tar_gz(regular("pkg/a.py", b"a"), special("pkg/b.py", tarfile.LNKTYPE, "pkg/a.py"))
    unsafe(data, tmp_path, "pkg/b.py", "hard link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_and_fifos_are_refused(kind: bytes, tmp_path: Path) -> None:
    unsafe(tar_gz(special("dev/null", kind)), tmp_path, "dev/null", "device file or FIFO")


def test_a_zip_fifo_is_refused(tmp_path: Path) -> None:
    unsafe(zip_bytes(("pipe", b""), mode=stat.S_IFIFO | 0o644), tmp_path, "pipe", "FIFO")


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_duplicate_paths_are_refused(kind: str, tmp_path: Path) -> None:
    if kind == "tar.gz":
        data = tar_gz(regular("pkg/a.py", b"one"), regular("pkg/./a.py", b"two"))
        unsafe(data, tmp_path, "pkg/./a.py", "duplicate path 'pkg/a.py'")
    else:
        with pytest.warns(UserWarning, match="Duplicate name"):
            data = zip_bytes(("pkg/a.py", b"one"), ("pkg/a.py", b"two"))
        unsafe(data, tmp_path, "pkg/a.py", "duplicate path")


def test_a_path_that_is_both_file_and_directory_is_refused(tmp_path: Path) -> None:
    data = tar_gz(regular("pkg/a", b"file"), regular("pkg/a/b.py", b"under it"))
    unsafe(data, tmp_path / "one", "pkg/a/b.py", "both a file and a directory")
    data = tar_gz(regular("pkg/a/b.py", b"under it"), regular("pkg/a", b"file"))
    unsafe(data, tmp_path / "two", "pkg/a", "both a file and a directory")


# --- sizes, counts and bombs ----------------------------------------------------------------------


def test_more_files_than_the_cap_are_refused(tmp_path: Path) -> None:
    data = tar_gz(*(regular(f"pkg/f{i}.py", b"x") for i in range(2001)))
    too_large(data, tmp_path / "tar", "max_files")
    assert len(read_archive(tar_gz(*(regular(f"f{i}", b"x") for i in range(2000))))) == 2000
    small = ArchiveLimits(max_files=3)
    data = zip_bytes(*((f"f{i}", b"x") for i in range(4)))
    too_large(data, tmp_path / "zip", "max_files", small)


def peak_memory(work: Callable[[], object]) -> int:
    """The most memory `work` held at once, in bytes (what was allocated before is not counted)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_50_mb_archive_is_refused_before_it_is_read(tmp_path: Path) -> None:
    data = tar_gz(regular("big.bin", os.urandom(50 * MiB)), level=0)
    assert len(data) > 50 * MiB
    # Nothing is decompressed: the refusal allocates next to nothing beside the 50 MB given.
    assert peak_memory(lambda: too_large(data, tmp_path, "max_archive_bytes")) < 1 * MiB


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_archive_unpacking_past_50_mib_is_refused_long_before_its_end(
    kind: str, tmp_path: Path
) -> None:
    """30 files of 9 MiB (270 MiB) in a ~4 MB archive, at a ratio (~60) under the cap."""
    content = compressible(9 * MiB)
    if kind == "tar.gz":
        data = tar_gz(*(regular(f"f{i}.bin", content) for i in range(30)))
    else:
        data = zip_bytes(*((f"f{i}.bin", content) for i in range(30)))
    assert len(data) < 10 * MiB
    refusal = peak_memory(lambda: too_large(data, tmp_path, "max_total_bytes"))
    # Against reading it all: the refusal comes after a fifth of the work (~58 of 270 MiB).
    read: dict[str, bytes] = {}
    whole = peak_memory(
        lambda: read.update(read_archive(data, ArchiveLimits(max_total_bytes=300 * MiB)))
    )
    assert len(read) == 30
    assert refusal < 0.6 * whole


def test_a_file_over_its_cap_is_refused(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_file_bytes=1000)
    too_large(tar_gz(regular("a.bin", b"x" * 1001)), tmp_path / "tar", "max_file_bytes", limits)
    too_large(zip_bytes(("a.bin", b"x" * 1001)), tmp_path / "zip", "max_file_bytes", limits)


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    data = zip_bytes(("zeros.bin", bytes(9 * MiB)))  # ~9 KiB packed: ratio ~1000
    assert len(data) < 20_000
    unsafe(data, tmp_path, "zeros.bin", "decompression ratio over 200")


def test_a_zip_bomb_of_many_members_is_refused(tmp_path: Path) -> None:
    """Each member within the per-file cap; together, far past the total and the ratio."""
    data = zip_bytes(*((f"z{i}.bin", bytes(5 * MiB)) for i in range(20)))
    error = refused(data, tmp_path, ArchiveUnsafe, "ARCHIVE_UNSAFE")
    assert error.details is not None
    assert "ratio" in error.details[0]["reason"]


def test_a_gzip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    data = tar_gz(regular("zeros.bin", bytes(9 * MiB)))  # ~9 KiB packed
    unsafe(data, tmp_path, "(archive)", "decompression ratio over 200")


def test_a_gigabyte_gzip_bomb_is_refused_while_decompressing(tmp_path: Path) -> None:
    """A tar header claiming 1 GiB, then 1 GiB of zeros: refused at the stream cap, not at 1 GiB."""
    deflater = zlib.compressobj(1, zlib.DEFLATED, 31)
    header = patch_tar_size(plain_tar(regular("zeros.bin", b""))[:512], 0, 1024 * MiB)
    chunks = [deflater.compress(header)]
    zeros = bytes(16 * MiB)
    chunks += [deflater.compress(zeros) for _ in range(64)]
    data = b"".join(chunks) + deflater.flush()
    assert len(data) < 10 * MiB
    # Memory, not time, shows where it stopped: the stream cap is about 50 MiB, the bomb 1 GiB.
    limits = ArchiveLimits(max_ratio=1_000_000)
    assert peak_memory(lambda: too_large(data, tmp_path, "max_total_bytes", limits)) < 256 * MiB


def test_a_gzip_stream_past_every_cap_is_refused_as_too_large(tmp_path: Path) -> None:
    """Within the ratio (random blocks), but more stream than the caps allow."""
    limits = ArchiveLimits(max_total_bytes=1 * MiB, max_files=10, max_ratio=1000)
    data = gzip.compress(compressible(4 * MiB), compresslevel=1)
    too_large(data, tmp_path, "max_total_bytes", limits)


def test_a_huge_pax_header_is_bounded_by_the_stream_cap(tmp_path: Path) -> None:
    """tarfile reads a pax header whole: the decompressed stream's cap bounds it."""
    info = tarfile.TarInfo("a.txt")
    info.pax_headers = {"comment": "x" * (80 * MiB)}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(b""))
    data = gzip.compress(raw.getvalue(), compresslevel=1)
    error = refused(
        data, tmp_path, ArchiveTooLarge, "ARCHIVE_TOO_LARGE", ArchiveLimits(max_ratio=10_000)
    )
    assert error.details is not None
    assert error.details[0]["limit"] == "max_total_bytes"


# --- lying, truncated and garbage archives --------------------------------------------------------


def test_a_tar_header_claiming_less_than_its_data_is_refused(tmp_path: Path) -> None:
    tar = plain_tar(regular("a.py", b"A" * 2000), regular("b.py", b"b"))
    error = invalid(gzip.compress(patch_tar_size(tar, 0, 100)), tmp_path)
    assert "header does not match its data" in error.message


def test_a_tar_header_claiming_more_than_the_archive_holds_is_refused(tmp_path: Path) -> None:
    tar = plain_tar(regular("a.py", b"A" * 2000))
    invalid(gzip.compress(patch_tar_size(tar, 0, 1 * MiB)), tmp_path)


def test_a_tar_header_claiming_more_than_the_file_cap_is_refused_unread(tmp_path: Path) -> None:
    tar = plain_tar(regular("a.py", b"A" * 2000))
    too_large(gzip.compress(patch_tar_size(tar, 0, 11 * MiB)), tmp_path, "max_file_bytes")


def test_a_zip_whose_sizes_lie_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes(("a.py", b"A" * 5000)))
    # The central directory's uncompressed size (offset 24 of its entry) says 10 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    invalid(bytes(data), tmp_path)


@pytest.mark.parametrize("make", [sample_tar_gz, sample_zip], ids=["tar.gz", "zip"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_archive_is_refused(
    make: Callable[[], bytes], keep: float, tmp_path: Path
) -> None:
    data = make()
    invalid(data[: int(len(data) * keep)], tmp_path)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world",
        os.urandom(4096),
        b"\x1f\x8b" + os.urandom(4096),
        b"PK\x03\x04" + os.urandom(4096),
        gzip.compress(b"not a tar, just text " * 100),
        gzip.compress(b"x") + b"trailing garbage",
        plain_tar(regular("a.py", b"a")),  # an uncompressed tar is not accepted
        zip_bytes(("a.py", b"a" * 100), method=zipfile.ZIP_BZIP2),
    ],
    ids=[
        "empty",
        "text",
        "random",
        "gzip-magic",
        "zip-magic",
        "gzip-of-text",
        "gzip-then-garbage",
        "plain-tar",
        "bzip2-zip",
    ],
)
def test_garbage_is_refused_as_invalid(data: bytes, tmp_path: Path) -> None:
    invalid(data, tmp_path)


def test_a_corrupt_gzip_crc_is_refused(tmp_path: Path) -> None:
    data = bytearray(sample_tar_gz())
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    invalid(bytes(data), tmp_path)


def test_errors_answer_with_the_shared_envelope_fields() -> None:
    with pytest.raises(ArchiveUnsafe) as caught:
        read_archive(tar_gz(regular("../x", b"x")))
    error = caught.value
    assert (error.status_code, error.code) == (422, "ARCHIVE_UNSAFE")
    assert error.details == [{"member": "../x", "reason": "'..' in the path"}]
