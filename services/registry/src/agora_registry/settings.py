"""Settings of the registry service (env prefix `AGORA_REGISTRY_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_REGISTRY_")

    service_name: ClassVar[str] = "registry"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "vetting", "executor", "auth")
