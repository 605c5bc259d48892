"""Local mode's key-encryption key: versions of AES-256 keys in a 0600 file under `.local/`.

The file is created on first use and never logged. Rotation adds a version and makes it primary;
old versions stay, so data keys wrapped under them still unwrap until they are re-wrapped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agora_auth.keys.envelope import NONCE_BYTES, UnreadableSecret, WrappedKey

FILE_FORMAT = "agora-local-kek/v1"
VERSION_PREFIX = "local/"
KEY_BYTES = 32


class KeyFileError(RuntimeError):
    """The key file is unusable: unreadable, malformed, or readable by others."""


@dataclass(frozen=True)
class KeyFile:
    """The versions of the KEK by number, and which one wraps new data keys."""

    primary: int
    versions: dict[int, bytes]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FILE_FORMAT,
                "primary": self.primary,
                "versions": {
                    str(n): base64.b64encode(key).decode() for n, key in self.versions.items()
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyFile:
        data = json.loads(text)
        if data.get("format") != FILE_FORMAT:
            raise KeyFileError("not a local key file")
        versions = {int(n): base64.b64decode(key) for n, key in data["versions"].items()}
        if data["primary"] not in versions or any(len(k) != KEY_BYTES for k in versions.values()):
            raise KeyFileError("malformed local key file")
        return cls(primary=data["primary"], versions=versions)


def version_name(number: int) -> str:
    return f"{VERSION_PREFIX}{number}"


def read_key_file(path: Path) -> KeyFile:
    """The key file, refused when group or others may read it (as ssh does)."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path} is accessible by others: chmod 600 it")
        return KeyFile.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"cannot read the local key file {path}: {type(exc).__name__}") from None


def ensure_key_file(path: Path) -> KeyFile:
    """The key file, created with one version when it does not exist (race-free)."""
    if not path.exists():
        _write(path, KeyFile(primary=1, versions={1: secrets.token_bytes(KEY_BYTES)}), new=True)
    return read_key_file(path)


def add_key_version(path: Path) -> str:
    """Add a fresh KEK version and make it primary; the name of the new version."""
    current = ensure_key_file(path)
    number = max(current.versions) + 1
    versions = {**current.versions, number: secrets.token_bytes(KEY_BYTES)}
    _write(path, KeyFile(primary=number, versions=versions), new=False)
    return version_name(number)


def _write(path: Path, key_file: KeyFile, *, new: bool) -> None:
    """Write a temporary 0600 file beside `path`, then put it in place in one step.

    A new file is linked into place (so two processes creating it at once keep the first);
    an update replaces the old file atomically.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key_file.to_json())
            out.flush()
            os.fsync(out.fileno())
        if new:
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(temp, path)
        else:
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


class LocalKeyWrapper:
    """A KeyWrapper over the local key file: AES-256-GCM with the primary KEK version."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys = ensure_key_file(path)
        self._mtime_ns = path.stat().st_mtime_ns

    def _current(self) -> KeyFile:
        # Pick up a rotation made by `rotate-keys` in another process (one stat per call).
        mtime_ns = self.path.stat().st_mtime_ns
        if mtime_ns != self._mtime_ns:
            self._keys, self._mtime_ns = read_key_file(self.path), mtime_ns
        return self._keys

    async def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        keys = self._current()
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = nonce + AESGCM(keys.versions[keys.primary]).encrypt(nonce, data_key, aad)
        return WrappedKey(ciphertext, version_name(keys.primary))

    async def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        kek = self._current().versions.get(_version_number(wrapped.key_version))
        if kek is None:
            raise UnreadableSecret("unknown local key version")
        nonce, body = wrapped.ciphertext[:NONCE_BYTES], wrapped.ciphertext[NONCE_BYTES:]
        try:
            return AESGCM(kek).decrypt(nonce, body, aad)
        except (InvalidTag, ValueError):
            raise UnreadableSecret("the data key does not unwrap with this AAD") from None

    async def primary_version(self) -> str:
        return version_name(self._current().primary)


def _version_number(name: str) -> int:
    if name.startswith(VERSION_PREFIX) and name[len(VERSION_PREFIX) :].isdigit():
        return int(name[len(VERSION_PREFIX) :])
    return -1
