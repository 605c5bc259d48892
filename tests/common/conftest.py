"""Fixtures for the shared library's tests: a local key and a real app served over HTTP."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings
from tests.support.signers import kms_server, kms_signer, signer  # noqa: F401 (fixtures)


class DemoSettings(ServiceSettings):
    """A stand-in service for the library's own tests."""

    model_config = SettingsConfigDict(env_prefix="AGORA_DEMO_")
    service_name: ClassVar[str] = "demo"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway",)
