"""Settings of the auth service (env prefix `AGORA_AUTH_`)."""

from pathlib import Path
from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings, UnsafeSettingsError

# Where local mode keeps the API keys' key-encryption key when no file is named (git-ignored).
DEFAULT_LOCAL_KEK_FILE = Path(".local/keys/api-keys-kek.json")
KMS_KEY_PATTERN = r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$"


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_AUTH_")

    service_name: ClassVar[str] = "auth"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "executor", "tool")
    # The only service that may read agents' signing secrets (to sign its calls to them).
    key_reader_services: ClassVar[tuple[str, ...]] = ("executor",)
    # The services that may read a user's decrypted provider key, for the one use they make of
    # it: an agent's call (executor), a Tool Factory `llm` generation (tool).
    provider_key_services: ClassVar[tuple[str, ...]] = ("executor", "tool")

    # How long a user lookup (disabled / revoked) is reused by POST /token/verify.
    revocation_ttl_s: float = Field(default=0.0, ge=0, le=300)
    # Firebase Auth admin calls (claims, custom tokens, user lists) are bounded by this.
    firebase_timeout_s: float = Field(default=5.0, gt=0, le=30)

    # API keys: the Cloud KMS key that wraps their data keys (required in production).
    kms_key: str | None = Field(default=None, pattern=KMS_KEY_PATTERN)
    # Local only: a plaintext gRPC KMS stand-in (host:port) instead of Cloud KMS.
    kms_endpoint: str | None = None
    # Local only, without kms_key: the key-encryption key file (made on first use, 0600).
    local_kek_file: Path | None = None

    @property
    def local_kek_path(self) -> Path:
        return self.local_kek_file or DEFAULT_LOCAL_KEK_FILE

    @model_validator(mode="after")
    def _refuse_unsafe_key_settings(self) -> Self:
        if self.is_local:
            return self
        problems = []
        if self.kms_key is None:
            problems.append("kms_key is not set")
        if self.local_kek_file is not None:
            problems.append("the local key-encryption key file is set")
        if self.kms_endpoint is not None:
            problems.append("a custom KMS endpoint is set")
        if problems:
            raise UnsafeSettingsError(
                f"{self.service_name}: unsafe settings in production: {'; '.join(problems)}"
            )
        return self
