"""An archive's caps and the three ways it is refused, with the details they carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agora_common.errors import AgoraError, PayloadTooLarge, ValidationFailed

MiB = 1024 * 1024

# Bytes read or decompressed per step.
CHUNK = 64 * 1024
# The ratio is judged once this much has been unpacked: a small archive of repetitive text may
# well compress 1000:1 and is harmless; what the ratio stops is a bomb, which has to be big.
RATIO_FLOOR = 1 * MiB
# Member names echoed back in error details are cut to this length.
SHOWN_NAME = 300


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


DEFAULT_LIMITS = ArchiveLimits()


class ArchiveError(AgoraError):
    """Base of the three refusals below, for callers that handle them alike."""


class ArchiveTooLarge(ArchiveError, PayloadTooLarge):
    code, message = "ARCHIVE_TOO_LARGE", "The archive is over a size limit"


class ArchiveUnsafe(ArchiveError, ValidationFailed):
    code, message = "ARCHIVE_UNSAFE", "The archive has a member that is refused"


class ArchiveInvalid(ArchiveError, ValidationFailed):
    code, message = "ARCHIVE_INVALID", "The archive is not a valid .tar.gz or .zip"


def check_ratio(unpacked: int, packed: int, limits: ArchiveLimits, member: str | None) -> None:
    if unpacked > RATIO_FLOOR and unpacked > limits.max_ratio * packed:
        reason = f"decompression ratio over {limits.max_ratio:g} (an archive bomb)"
        raise ArchiveUnsafe(details=[problem(member or "(archive)", reason)])


def problem(name: str, reason: str) -> dict[str, str]:
    shown = name if len(name) <= SHOWN_NAME else name[:SHOWN_NAME] + "..."
    return {"member": shown, "reason": reason}


def too_large(limit: str, maximum: int, **about: Any) -> ArchiveTooLarge:
    what = about.pop("what", "files" if limit == "max_files" else "bytes")
    member = about.pop("member", None)
    detail: dict[str, Any] = {"limit": limit, "max": maximum, **about}
    if member is not None:
        detail["member"] = problem(member, "")["member"]
    return ArchiveTooLarge(f"The archive is over its limit of {maximum} {what}", details=[detail])
