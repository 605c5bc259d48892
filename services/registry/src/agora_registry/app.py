"""App factory of the registry service."""

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_registry.settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return create_service_app(
        settings,
        title="Agora registry",
        description="Agents: register, search, manifests, status.",
        needs=Needs(firestore=True, redis=True),
    )
