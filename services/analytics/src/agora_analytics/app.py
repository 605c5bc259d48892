"""App factory of the analytics service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from agora_analytics.container import build
from agora_analytics.routes import alerts, ingest, reads, spend
from agora_analytics.settings import AnalyticsSettings
from agora_common.app import Needs, create_service_app


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    app = create_service_app(
        settings,
        title="Agora analytics",
        description="Execution logs in BigQuery: metrics, costs, the dashboard, anomaly alerts.",
        needs=Needs(firestore=True),
        wire=partial(build, settings),
    )
    for router in (ingest.router, reads.router, spend.router, alerts.router):
        app.include_router(router)
    return app
