"""App factory of the gateway service."""

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    return create_service_app(
        settings,
        title="Agora gateway",
        description="Public entry: Firebase sign-in, rate limits, /api/v1 proxy.",
        needs=Needs(redis=True),
    )
