"""Settings of the gateway service (env prefix `AGORA_GATEWAY_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_GATEWAY_")

    service_name: ClassVar[str] = "gateway"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ()
