"""Settings of the auth service (env prefix `AGORA_AUTH_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_AUTH_")

    service_name: ClassVar[str] = "auth"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "executor")
