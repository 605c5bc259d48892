"""Settings of the tool service (env prefix `AGORA_TOOL_`)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class ToolSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_TOOL_")

    service_name: ClassVar[str] = "tool"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "registry")
    # Who may say an agent changed (the registry, beside its answers).
    sync_services: ClassVar[tuple[str, ...]] = ("registry",)
    # Cloud Scheduler's identity for the periodic reconcile (infra/terraform/scheduler.tf).
    reconcile_services: ClassVar[tuple[str, ...]] = ("catalog-scheduler",)
    allowed_caller_identities: ClassVar[tuple[str, ...]] = reconcile_services

    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)
    catalog_cache_ttl_s: int = Field(default=600, ge=1, le=86_400)
    # In-process reconcile every this many seconds (0: off). Production turns it off and lets
    # Cloud Scheduler call POST /internal/reconcile, since Cloud Run may pause idle instances.
    reconcile_interval_s: float = Field(default=300.0, ge=0, le=86_400)
