"""Settings of the tool service (env prefix `AGORA_TOOL_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class ToolSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_TOOL_")

    service_name: ClassVar[str] = "tool"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway",)
