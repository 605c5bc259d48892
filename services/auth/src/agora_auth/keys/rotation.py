"""Key rotation: re-wrap every stored data key under the KEK's primary version.

Only the wrapped data key and its version change, in a write conditional on the document being
unchanged since it was read; the secrets' ciphertexts are never rewritten. A key that fails
keeps what it had (its old version still unwraps), is counted, and is picked up by the next run:
keys already under the primary version are skipped, so running again resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.keys.envelope import EnvelopeCipher, UnreadableSecret, associated_data
from agora_auth.keys.local import add_key_version
from agora_auth.keys.records import StoredKey, UserKeys
from agora_auth.keys.repository import AgentSecretRepository, ApiKeyRepository, StaleWrite
from agora_auth.keys.wiring import open_key_wrapper
from agora_auth.settings import AuthSettings
from agora_common.clients import close_firestore_client, make_firestore_client

log = logging.getLogger("agora.auth.keys")

# A document that keeps changing under the rotation is left for the next run after this many.
_ATTEMPTS = 3


class RotationAborted(RuntimeError):
    """Too many documents failed in a row (the key service is probably down)."""


@dataclass
class RotationProgress:
    """Counts so far; `line()` is what the command prints."""

    primary: str
    total_documents: int
    documents: int = 0
    rewrapped: int = 0
    current: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"re-wrapped {self.rewrapped} keys in {self.documents}/{self.total_documents} "
            f"documents ({self.current} already current, {self.failed} failed)"
        )


async def rewrap_all(
    repository: ApiKeyRepository,
    cipher: EnvelopeCipher,
    *,
    page_size: int = 100,
    max_consecutive_failures: int = 10,
    on_progress: Callable[[RotationProgress], None] | None = None,
) -> RotationProgress:
    """Walk `api_keys` in uid order and re-wrap every key not under the primary version."""
    progress = RotationProgress(await cipher.primary_version(), await repository.count())
    after: str | None = None
    consecutive_failures = 0
    while True:
        page = await repository.page(after, page_size)
        for keys in page:
            if await _rewrap_document(repository, cipher, keys, progress):
                consecutive_failures = 0
            else:
                consecutive_failures += 1
                if consecutive_failures >= max_consecutive_failures:
                    raise RotationAborted(
                        f"{consecutive_failures} documents failed in a row; stopped at {keys.uid}"
                    )
            progress.documents += 1
        if on_progress is not None:
            on_progress(progress)
        if len(page) < page_size:
            return progress
        after = page[-1].uid


async def _rewrap_document(
    repository: ApiKeyRepository,
    cipher: EnvelopeCipher,
    keys: UserKeys,
    progress: RotationProgress,
) -> bool:
    """Re-wrap one user's stale keys; False when any of them stayed on its old version."""
    uid = keys.uid
    current: UserKeys | None = keys
    for _ in range(_ATTEMPTS):
        if current is None:  # deleted meanwhile: nothing left to re-wrap
            return True
        stale = {
            name: key
            for name, key in current.keys.items()
            if key.sealed.wrapped_key.key_version != progress.primary
        }
        rewrapped: dict[str, StoredKey] = {}
        unreadable = 0
        try:
            for name, key in stale.items():
                try:
                    sealed = await cipher.rewrap(key.sealed, associated_data(uid, name))
                except UnreadableSecret:  # tampered with or moved: left exactly as it is
                    log.warning(
                        "a stored key does not unwrap; left as it is",
                        extra={"uid": uid, "provider": name},
                    )
                    unreadable += 1
                    continue
                rewrapped[name] = replace(key, sealed=sealed)
            if rewrapped:
                await repository.replace_wrapped(current, rewrapped)
        except StaleWrite:
            current = await repository.get(uid)  # changed meanwhile: read it again, retry
            continue
        except Exception as exc:  # a document's failure (KMS, storage) is not the run's
            log.warning(
                "could not re-wrap a document; it keeps its keys",
                extra={"uid": uid, "error": type(exc).__name__},
            )
            progress.failed += len(stale)
            return False
        progress.rewrapped += len(rewrapped)
        progress.current += len(current.keys) - len(stale)
        progress.failed += unreadable
        return unreadable == 0
    log.warning("document kept changing during rotation; left for the next run", extra={"uid": uid})
    progress.failed += len(keys.keys)
    return False


async def rotate_keys(
    settings: AuthSettings,
    *,
    new_local_version: bool = True,
    page_size: int = 100,
    on_progress: Callable[[RotationProgress], None] | None = None,
    on_new_version: Callable[[str], None] | None = None,
) -> RotationProgress:
    """The rotate-keys command: locally, first a new primary KEK version; then re-wrap all."""
    if settings.kms_key is None and new_local_version:
        version = add_key_version(settings.local_kek_path)
        if on_new_version is not None:
            on_new_version(version)
    db = make_firestore_client(settings)
    try:
        async with open_key_wrapper(settings) as wrapper:
            repository = ApiKeyRepository(db, timeout_s=settings.dependency_timeout_s)
            cipher = EnvelopeCipher(wrapper)
            progress = await rewrap_all(
                repository, cipher, page_size=page_size, on_progress=on_progress
            )
            # Agents' signing secrets live under the same key hierarchy.
            secrets_repo = AgentSecretRepository(db, timeout_s=settings.dependency_timeout_s)
            secrets = AgentSecrets(secrets_repo, cipher)
            rewrapped, failed = await secrets.rewrap_all()
            progress.rewrapped += rewrapped
            progress.failed += failed
            return progress
    finally:
        await close_firestore_client(db)
