"""FastAPI dependencies shared by the analytics routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_analytics.alerts import AlertService
from agora_analytics.ingest import Ingestor
from agora_analytics.metrics import MetricsService
from agora_analytics.settings import AnalyticsSettings
from agora_common.app import from_state
from agora_common.identity import services_only

Ingest = Annotated[Ingestor, Depends(from_state("ingestor"))]
Reads = Annotated[MetricsService, Depends(from_state("metrics"))]
Alerts = Annotated[AlertService, Depends(from_state("alerts"))]
EventWriter = Annotated[str, Depends(services_only(*AnalyticsSettings.event_writer_services))]
Scheduler = Annotated[str, Depends(services_only(*AnalyticsSettings.alert_check_services))]
