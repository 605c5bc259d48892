"""Fixtures for the shared library's tests: a local key and a real app served over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings
from tests.support.factories import make_dev_key


class DemoSettings(ServiceSettings):
    """A stand-in service for the library's own tests."""

    model_config = SettingsConfigDict(env_prefix="AGORA_DEMO_")
    service_name: ClassVar[str] = "demo"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway",)


@pytest.fixture(scope="session")
def dev_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_dev_key(tmp_path_factory.mktemp("iam"))
