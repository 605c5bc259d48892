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

The package: `limits` (the caps and the three refusals), `tree` (member names and the running
counts both formats share), `formats` (the .tar.gz and .zip readers) and `unpack`.
"""

from agora_common.archives.formats import read_archive
from agora_common.archives.limits import (
    ArchiveError,
    ArchiveInvalid,
    ArchiveLimits,
    ArchiveTooLarge,
    ArchiveUnsafe,
)
from agora_common.archives.unpack import unpack_archive

__all__ = [
    "ArchiveError",
    "ArchiveInvalid",
    "ArchiveLimits",
    "ArchiveTooLarge",
    "ArchiveUnsafe",
    "read_archive",
    "unpack_archive",
]
