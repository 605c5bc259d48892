"""App factory of the auth service."""

from fastapi import FastAPI

from agora_auth.settings import AuthSettings
from agora_common.app import Needs, create_service_app


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    return create_service_app(
        settings,
        title="Agora auth",
        description="Agent tokens, encrypted user API keys, the admin role.",
        needs=Needs(firestore=True),
    )
