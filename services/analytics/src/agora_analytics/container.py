"""What the analytics routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_analytics.alerts import AlertService
from agora_analytics.bigquery import EventStore, make_client
from agora_analytics.ingest import Ingestor
from agora_analytics.metrics import MetricsService
from agora_analytics.repository import AlertRepository
from agora_analytics.settings import AnalyticsSettings
from agora_common.agents import AgentDirectory
from agora_common.app import Resources
from agora_common.audit import AuditLog
from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError
from agora_common.webhooks import WebhookSender

log = logging.getLogger("agora.analytics")


@dataclass(frozen=True)
class AnalyticsContainer:
    ingestor: Ingestor
    metrics: MetricsService
    alerts: AlertService


async def build(
    settings: AnalyticsSettings, resources: Resources, stack: AsyncExitStack
) -> AnalyticsContainer:
    assert resources.firestore is not None
    timeout = settings.dependency_timeout_s
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
        sender = WebhookSender(EgressGuard())  # public addresses only, in every mode
        stack.push_async_callback(sender.aclose)
        secret = settings.alert_webhook_secret.get_secret_value()
        webhook = (sender, settings.alert_webhook_url, secret)
    return AnalyticsContainer(
        ingestor=ingestor,
        metrics=MetricsService(store, AgentDirectory(resources.services, ttl_s=30.0)),
        alerts=AlertService(
            store,
            AlertRepository(resources.firestore, timeout_s=timeout),
            settings.alerts,
            AuditLog(resources.firestore, timeout_s=timeout),
            webhook,
        ),
    )
