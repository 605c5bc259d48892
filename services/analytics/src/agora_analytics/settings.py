"""Settings of the analytics service (env prefix `AGORA_ANALYTICS_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_ANALYTICS_")

    service_name: ClassVar[str] = "analytics"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "executor")
