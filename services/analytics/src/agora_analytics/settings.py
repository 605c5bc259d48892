"""Settings of the analytics service (env prefix `AGORA_ANALYTICS_`)."""

from __future__ import annotations

from typing import ClassVar, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import ServiceSettings, UnsafeSettingsError


class Price(BaseModel):
    """What one execution costs: a fee per call plus agent time, in micro-USD (exact integers)."""

    per_call_micros: int = Field(default=0, ge=0, le=10**9)
    per_second_micros: int = Field(default=0, ge=0, le=10**9)


class PriceTable(BaseModel):
    """The default price, and per-agent prices that replace it."""

    default: Price = Price(per_call_micros=100, per_second_micros=1_000)
    agents: dict[str, Price] = Field(default_factory=dict)

    def for_agent(self, agent_id: str) -> Price:
        return self.agents.get(agent_id, self.default)


class AlertRules(BaseModel):
    """When an agent's recent behaviour is anomalous against its own baseline."""

    recent_minutes: int = Field(default=15, ge=1, le=24 * 60)
    baseline_days: int = Field(default=7, ge=1, le=30)
    # Too few calls say nothing; both windows need this many.
    min_calls: int = Field(default=10, ge=1)
    # Error rate: at least this high, and this many times the baseline's.
    min_error_rate: float = Field(default=0.25, gt=0, le=1)
    error_rate_ratio: float = Field(default=3.0, ge=1)
    # p95 latency: this many times the baseline's, and at least this many ms more.
    latency_ratio: float = Field(default=3.0, ge=1)
    min_latency_increase_ms: float = Field(default=250.0, ge=0)


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_ANALYTICS_")

    service_name: ClassVar[str] = "analytics"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "executor")
    # Who may write events; who runs the scheduled anomaly check (Cloud Scheduler's identity,
    # agora-alerts-scheduler, see infra/terraform/scheduler.tf).
    event_writer_services: ClassVar[tuple[str, ...]] = ("executor", "gateway")
    # Who may read one personal token's spending (the executor enforces its monthly limit).
    spend_reader_services: ClassVar[tuple[str, ...]] = ("executor",)
    alert_check_services: ClassVar[tuple[str, ...]] = ("alerts-scheduler",)
    allowed_caller_identities: ClassVar[tuple[str, ...]] = alert_check_services

    bigquery_emulator_host: str | None = Field(
        default=None, validation_alias="BIGQUERY_EMULATOR_HOST"
    )
    dataset: str = Field(default="agora_analytics", pattern=r"^[A-Za-z0-9_]{1,1024}$")
    table: str = Field(default="events", pattern=r"^[A-Za-z0-9_]{1,1024}$")
    location: str = "US"
    # Streaming inserts: one insert per `batch_rows` rows or every `batch_ms`, whichever is first.
    batch_rows: int = Field(default=500, ge=1, le=10_000)
    batch_ms: int = Field(default=50, ge=1, le=10_000)
    max_events_per_request: int = Field(default=1_000, ge=1, le=10_000)
    # Each BigQuery call: the time one attempt may take, and the deadline of all its retries.
    bigquery_timeout_s: float = Field(default=10.0, gt=0, le=120)
    bigquery_retry_deadline_s: float = Field(default=5.0, gt=0, le=600)

    prices: PriceTable = PriceTable()
    alerts: AlertRules = AlertRules()
    # Optional: alerts are also posted here, signed with the secret (X-Agora-Signature).
    alert_webhook_url: str | None = None
    alert_webhook_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _safe_analytics_settings(self) -> Self:
        if not self.is_local and self.bigquery_emulator_host:
            raise UnsafeSettingsError("analytics: BIGQUERY_EMULATOR_HOST is for local runs only")
        if self.alert_webhook_url is not None:
            if urlsplit(self.alert_webhook_url).scheme != "https" and not self.is_local:
                raise UnsafeSettingsError("analytics: the alert webhook must be https")
            if self.alert_webhook_secret is None:
                raise UnsafeSettingsError("analytics: an alert webhook needs a signing secret")
        return self
