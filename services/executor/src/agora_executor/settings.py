"""Settings of the executor service (env prefix `AGORA_EXECUTOR_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings


class ExecutorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_EXECUTOR_")

    service_name: ClassVar[str] = "executor"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "vetting")
