"""The settings of a service that holds the platform's signing key (registry, gateway, vetting)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

from pydantic import Field, model_validator

from agora_common.settings import ServiceSettings, UnsafeSettingsError
from agora_common.signing import CardSigner, SigningUnavailable

# Where local mode keeps the signing key when no file is named (git-ignored, like the KEK).
DEFAULT_LOCAL_SIGNING_KEY_FILE = Path(".local/keys/card-signing.pem")
KMS_KEY_VERSION_PATTERN = (
    r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+/cryptoKeyVersions/[0-9]+$"
)


class CardSigningSettings(ServiceSettings):
    """ServiceSettings plus where the platform's signing key is.

    Production names a Cloud KMS key version (`card_signing_kms_key_version`); without one, what
    needs the key answers 503 `SIGNING_UNAVAILABLE` (the gateway's JWKS is then empty). Local
    mode uses the key file (made on first use) unless a KMS key version is named.
    """

    card_signing_kms_key_version: str | None = Field(default=None, pattern=KMS_KEY_VERSION_PATTERN)
    # Local only: a plaintext gRPC KMS stand-in (host:port) instead of Cloud KMS.
    card_signing_kms_endpoint: str | None = None
    # Local only, without a KMS key version: the EC P-256 key file (0600).
    card_signing_key_file: Path | None = None
    # Each KMS call (sign, public key) within this.
    card_signing_timeout_s: float = Field(default=2.0, gt=0, le=30)

    @property
    def card_signing_key_path(self) -> Path:
        return self.card_signing_key_file or DEFAULT_LOCAL_SIGNING_KEY_FILE

    @model_validator(mode="after")
    def _refuse_unsafe_signing_settings(self) -> Self:
        if self.is_local:
            return self
        problems = []
        if self.card_signing_key_file is not None:
            problems.append("the local signing key file is set")
        if self.card_signing_kms_endpoint is not None:
            problems.append("a custom KMS endpoint for signing is set")
        if problems:
            raise UnsafeSettingsError(
                f"{self.service_name}: unsafe settings in production: {'; '.join(problems)}"
            )
        return self


class NoCardSigner:
    """Production without a configured key: nothing is signed, nothing is published."""

    async def sign(self, payload: bytes, header: dict[str, Any] | None = None) -> str:
        raise SigningUnavailable("No signing key is configured")

    async def public_jwks(self) -> dict[str, Any]:
        return {"keys": []}


@asynccontextmanager
async def open_card_signer(settings: CardSigningSettings) -> AsyncIterator[CardSigner]:
    """The signer the settings name, open for the lifetime of the block."""
    if settings.card_signing_kms_key_version is not None:
        from agora_common.kms import close_kms_client, make_kms_client
        from agora_common.signing.kms import KmsCardSigner

        client = make_kms_client(settings.card_signing_kms_endpoint)
        try:
            yield KmsCardSigner(
                client,
                settings.card_signing_kms_key_version,
                timeout_s=settings.card_signing_timeout_s,
            )
        finally:
            await close_kms_client(client)
        return
    if not settings.is_local:
        yield NoCardSigner()
        return
    from agora_common.signing.local import LocalCardSigner

    yield LocalCardSigner(settings.card_signing_key_path)
