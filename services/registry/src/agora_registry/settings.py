"""Settings of the registry service (env prefix `AGORA_REGISTRY_`)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from agora_common.models.fields import WebUrl
from agora_common.signing.settings import CardSigningSettings


class RegistrySettings(CardSigningSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_REGISTRY_")

    service_name: ClassVar[str] = "registry"
    allowed_caller_services: ClassVar[tuple[str, ...]] = (
        "gateway",
        "vetting",
        "executor",
        "auth",
        "analytics",
        "tool",
    )
    # The only services that may change an agent's status (internal status route).
    status_change_services: ClassVar[tuple[str, ...]] = ("vetting", "executor")
    # The services that may register an agent for the user they verified (tool submissions).
    registration_services: ClassVar[tuple[str, ...]] = ("tool",)
    # The services that may read any agent with its owner fields (internal read route).
    agent_reader_services: ClassVar[tuple[str, ...]] = (
        "auth",
        "executor",
        "vetting",
        "analytics",
        "tool",
    )

    # Request bodies above this are refused with 413 as soon as the size is known.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=1024 * 1024)
    search_cache_ttl_s: int = Field(default=600, ge=1, le=86_400)
    # How long a public cache may keep an active agent's manifest.
    manifest_max_age_s: int = Field(default=60, ge=0, le=3600)
    # How long an Idempotency-Key of POST /register is remembered.
    idempotency_ttl_s: int = Field(default=86_400, ge=60, le=7 * 86_400)
    # Public reads of one agent (GET, manifest) are served from a per-instance cache this
    # long: a hot agent costs one Firestore read per interval, not one per request. This
    # instance's own writes drop the entry at once; another instance's are seen within it.
    # 0 turns the cache off. Writes and the services' internal reads always read Firestore.
    read_cache_ttl_s: float = Field(default=1.0, ge=0, le=30)
    # Agents kept at most: cards may be up to `max_body_bytes`, so this bounds the memory.
    read_cache_entries: int = Field(default=256, ge=1, le=10_000)
    # The public API's origin (the gateway's, e.g. https://agora.example.com): exported A2A
    # cards name its execute URL. Unset: the export answers 503 PUBLIC_URL_UNCONFIGURED.
    public_api_url: WebUrl | None = None
