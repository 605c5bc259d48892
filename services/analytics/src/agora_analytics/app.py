"""App factory of the analytics service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from agora_analytics.alerts import AlertService
from agora_analytics.bigquery import EventStore, make_client
from agora_analytics.ingest import Ingestor
from agora_analytics.metrics import MetricsService
from agora_analytics.repository import AlertRepository
from agora_analytics.routes import alerts, ingest, reads
from agora_analytics.settings import AnalyticsSettings
from agora_common.agents import AgentDirectory
from agora_common.app import Needs, Resources, create_service_app
from agora_common.audit import AuditLog
from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError
from agora_common.webhooks import WebhookSender

log = logging.getLogger("agora.analytics")


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    @asynccontextmanager
    async def wire(app: FastAPI) -> AsyncIterator[None]:
        """Build the services on the clients the shared lifespan opened."""
        resources: Resources = app.state.resources
        assert resources.firestore is not None
        timeout = settings.dependency_timeout_s
        async with AsyncExitStack() as stack:
            store = EventStore(make_client(settings), settings)
            stack.callback(store.close)
            try:
                await store.ensure_table()
            except AgoraError:
                log.warning("events table not checked at start-up; BigQuery is unavailable")
            resources.readiness["bigquery"] = store.ping
            ingestor = Ingestor(
                store, settings.prices, batch_rows=settings.batch_rows, batch_ms=settings.batch_ms
            )
            ingestor.start()
            stack.push_async_callback(ingestor.aclose)
            webhook = None
            if settings.alert_webhook_url and settings.alert_webhook_secret:
                sender = WebhookSender(EgressGuard())
                stack.push_async_callback(sender.aclose)
                secret = settings.alert_webhook_secret.get_secret_value()
                webhook = (sender, settings.alert_webhook_url, secret)
            app.state.ingestor = ingestor
            app.state.metrics = MetricsService(
                store, AgentDirectory(resources.services, ttl_s=30.0)
            )
            app.state.alerts = AlertService(
                store,
                AlertRepository(resources.firestore, timeout_s=timeout),
                settings.alerts,
                AuditLog(resources.firestore, timeout_s=timeout),
                webhook,
            )
            yield

    app = create_service_app(
        settings,
        title="Agora analytics",
        description="Execution logs in BigQuery: metrics, costs, the dashboard, anomaly alerts.",
        needs=Needs(firestore=True),
        lifespan_hook=wire,
    )
    for router in (ingest.router, reads.router, alerts.router):
        app.include_router(router)
    return app
