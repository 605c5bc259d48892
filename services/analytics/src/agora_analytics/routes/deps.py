"""FastAPI dependencies shared by the analytics routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_analytics.alerts import AlertService
from agora_analytics.container import AnalyticsContainer
from agora_analytics.ingest import Ingestor
from agora_analytics.metrics import MetricsService
from agora_analytics.settings import AnalyticsSettings
from agora_common.app import provide
from agora_common.identity import services_only

Ingest = Annotated[Ingestor, Depends(provide(AnalyticsContainer, lambda c: c.ingestor))]
Reads = Annotated[MetricsService, Depends(provide(AnalyticsContainer, lambda c: c.metrics))]
Alerts = Annotated[AlertService, Depends(provide(AnalyticsContainer, lambda c: c.alerts))]
EventWriter = Annotated[str, Depends(services_only(*AnalyticsSettings.event_writer_services))]
SpendReader = Annotated[str, Depends(services_only(*AnalyticsSettings.spend_reader_services))]
Scheduler = Annotated[str, Depends(services_only(*AnalyticsSettings.alert_check_services))]
