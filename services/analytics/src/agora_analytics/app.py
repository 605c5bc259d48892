"""App factory of the analytics service."""

from fastapi import FastAPI

from agora_analytics.settings import AnalyticsSettings
from agora_common.app import Needs, create_service_app


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    return create_service_app(
        settings,
        title="Agora analytics",
        description="Execution logs, metrics and costs.",
        needs=Needs(firestore=True),
    )
