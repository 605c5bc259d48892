"""Settings base shared by every service: one pydantic-settings class each, own prefix."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agora_common.archives import ArchiveLimits

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
LOCAL_DEV_ISSUER = "agora-local-dev-signer"


class Environment(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class UnsafeSettingsError(ValueError):
    """A setting that is only acceptable in local mode was given in production (or vice versa)."""


def service_account_email(service: str, project_id: str) -> str:
    """The identity a service runs as: one service account per service (see infra/terraform)."""
    return f"agora-{service}@{project_id}.iam.gserviceaccount.com"


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set `service_name`, the env prefix and their callers."""

    model_config = SettingsConfigDict(env_prefix="AGORA_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "service"
    # Which services may call this one's internal routes (names; mapped to service account emails).
    allowed_caller_services: ClassVar[tuple[str, ...]] = ()
    # Identities that are not services but may call internal routes (e.g. Cloud Tasks' or Cloud
    # Scheduler's invoker account), by the same naming: agora-<name>@<project>.
    allowed_caller_identities: ClassVar[tuple[str, ...]] = ()
    # Services besides the gateway whose identity headers this one honours: they pass on a user
    # the gateway verified for them (e.g. the tool service's MCP endpoint calling the executor).
    identity_forwarders: ClassVar[tuple[str, ...]] = ()

    # Production is the default so a forgotten setting fails closed, not open.
    env: Environment = Environment.PRODUCTION
    project_id: str = "demo-agora"
    port: int = Field(default=8080, ge=1, le=65535, validation_alias="PORT")
    log_level: str = "INFO"
    # One structured line per request; Cloud Run's request log already has status and latency.
    access_log: bool = True
    # Set by Cloud Run; its presence means we are on Cloud Run whatever `env` says.
    k_service: str | None = Field(default=None, validation_alias="K_SERVICE")
    firestore_emulator_host: str | None = Field(
        default=None, validation_alias="FIRESTORE_EMULATOR_HOST"
    )
    firebase_auth_emulator_host: str | None = Field(
        default=None, validation_alias="FIREBASE_AUTH_EMULATOR_HOST"
    )
    # The Cloud Storage emulator's base URL (`http://host:port`; a bare host:port means http), the
    # variable google-cloud-storage itself reads.
    storage_emulator_host: str | None = Field(
        default=None, validation_alias="STORAGE_EMULATOR_HOST"
    )
    # The Cloud Storage bucket that holds package sources (agora_common.blobs); None: no store.
    source_bucket: str | None = None

    redis_url: str | None = None
    # Base URLs of the services this one calls, by service name.
    service_urls: dict[str, str] = Field(default_factory=dict)

    # Incoming service-to-service tokens: who signs them and for which audience.
    iam_audiences: tuple[str, ...] = ()
    iam_jwks_url: str = GOOGLE_CERTS_URL
    iam_issuers: tuple[str, ...] = GOOGLE_ISSUERS
    iam_allowed_callers: tuple[str, ...] | None = None
    # Local only: the RS256 key the development signer uses for outgoing calls.
    iam_dev_key_file: Path | None = None

    http_connect_timeout_s: float = Field(default=2.0, gt=0, le=30)
    http_read_timeout_s: float = Field(default=15.0, gt=0, le=300)
    http_max_connections: int = Field(default=100, ge=1, le=10_000)
    dependency_timeout_s: float = Field(default=2.0, gt=0, le=30)

    @property
    def is_local(self) -> bool:
        return self.env is Environment.LOCAL

    @property
    def allowed_caller_emails(self) -> frozenset[str]:
        """Service account emails allowed on internal routes."""
        if self.iam_allowed_callers is not None:
            return frozenset(self.iam_allowed_callers)
        names = (*self.allowed_caller_services, *self.allowed_caller_identities)
        return frozenset(service_account_email(name, self.project_id) for name in names)

    @property
    def identity_email(self) -> str:
        """The identity this service presents to others."""
        return service_account_email(self.service_name, self.project_id)

    @field_validator("source_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not is_bucket_name(value):
            raise ValueError(f"{value!r} is not a Cloud Storage bucket name")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Self:
        if self.k_service and self.is_local:
            raise UnsafeSettingsError("local mode cannot run on Cloud Run (K_SERVICE is set)")
        if self.is_local:
            return self
        problems = []
        emulators = (
            self.firestore_emulator_host,
            self.firebase_auth_emulator_host,
            self.storage_emulator_host,
        )
        if any(emulators):
            problems.append("emulator hosts are set")
        if self.iam_dev_key_file is not None:
            problems.append("the development signer key is set")
        if self.iam_jwks_url != GOOGLE_CERTS_URL or set(self.iam_issuers) - set(GOOGLE_ISSUERS):
            problems.append("service tokens must be Google-signed")
        if self.project_id.startswith("demo-"):
            problems.append("project_id is a demo project")
        if not self.iam_audiences:
            problems.append("iam_audiences is empty")
        plain = [u for u in (*self.service_urls.values(), *self.iam_audiences) if not _is_https(u)]
        if plain:
            problems.append(f"non-https URLs: {', '.join(sorted(plain))}")
        if problems:
            raise UnsafeSettingsError(
                f"{self.service_name}: unsafe settings in production: {'; '.join(problems)}"
            )
        return self


class PackageLimitSettings(BaseSettings):
    """What one submitted package's archive may hold: for the services that read packages
    (tool, vetting, executor), so each refuses the same archives."""

    max_package_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_package_files: int = Field(default=500, ge=1, le=5000)
    max_package_unpacked_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)

    @property
    def package_limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_archive_bytes=self.max_package_bytes,
            max_files=self.max_package_files,
            max_total_bytes=self.max_package_unpacked_bytes,
            max_file_bytes=min(self.max_package_unpacked_bytes, 10 * 1024 * 1024),
        )


def _is_https(url: str) -> bool:
    return urlsplit(url).scheme == "https"


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def is_bucket_name(name: str) -> bool:
    """Cloud Storage's rules for a bucket name: 3-63 characters of a-z, 0-9, "-", "_" and ".",
    starting and ending with a letter or digit (up to 222 with dots, 63 between them), no IP
    address, nothing starting with "goog" or containing "google"."""
    if not _BUCKET_NAME.fullmatch(name) or _IPV4.fullmatch(name):
        return False
    if name.startswith("goog") or "google" in name:
        return False
    if "." not in name:
        return 3 <= len(name) <= 63
    return len(name) <= 222 and all(0 < len(part) <= 63 for part in name.split("."))
