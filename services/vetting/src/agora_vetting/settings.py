"""Settings of the vetting service (env prefix `AGORA_VETTING_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class VettingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_VETTING_")

    service_name: ClassVar[str] = "vetting"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway",)
