"""Events analytics takes in, and the answers of its read routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

ID = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=128)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# Events may be late (an outbox drains after an outage) but never from the future or ancient.
MAX_EVENT_AGE = timedelta(days=30)
MAX_CLOCK_SKEW = timedelta(minutes=5)


def _plausible_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone")
    now = datetime.now(UTC)
    if value > now + MAX_CLOCK_SKEW:
        raise ValueError("is in the future")
    if value < now - MAX_EVENT_AGE:
        raise ValueError("is more than 30 days old")
    return value


EventTime = Annotated[datetime, AfterValidator(_plausible_time)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: ID  # also BigQuery's insertId, so a retried insert is one row
    occurred_at: EventTime


class ExecutionEvent(_Event):
    """One tool execution, as the executor logged it (never a payload, a result or a key)."""

    kind: Literal["execution"]
    agent_id: ID
    agent_owner_uid: ID | None = None
    tool_name: Name
    caller_uid: ID | None = None
    caller_kind: Literal["user", "agent"] = "user"
    token_id: ID | None = None  # the personal API token the call came with
    status: Literal["succeeded", "failed", "error"]
    error_code: Code | None = None
    duration_ms: float = Field(ge=0, le=3_600_000)
    request_bytes: int = Field(default=0, ge=0, le=1 << 31)
    response_bytes: int = Field(default=0, ge=0, le=1 << 31)


class SecurityEvent(_Event):
    """Something a service refused that an admin may want to know about."""

    kind: Literal["security"]
    type: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    source: Literal["executor", "gateway"] | None = None  # set by analytics from the caller
    agent_id: ID | None = None
    caller_uid: ID | None = None
    client_ip: Annotated[str, Field(max_length=64)] | None = None
    count: int = Field(default=1, ge=1, le=1_000_000)
    path: Annotated[str, Field(max_length=512)] | None = None


Event = Annotated[ExecutionEvent | SecurityEvent, Field(discriminator="kind")]
EVENT = TypeAdapter[ExecutionEvent | SecurityEvent](Event)


class RejectedEvent(BaseModel):
    index: int
    event_id: str | None = None
    errors: list[dict[str, str]]


class LogResult(BaseModel):
    """Accepted events are in BigQuery when this answers; rejected ones never will be."""

    accepted: int
    rejected: list[RejectedEvent] = Field(default_factory=list)


class Window(StrEnum):
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def span(self) -> timedelta:
        return {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}.get(
            self.value, timedelta(days=30)
        )

    @property
    def bucket_s(self) -> int:
        """Time buckets: 12 of 5 min, 24 of 1 h, 28 of 6 h, 30 of 1 day."""
        return {"1h": 300, "24h": 3600, "7d": 21_600}.get(self.value, 86_400)


class Bucket(BaseModel):
    start: datetime
    calls: int
    errors: int
    p95_ms: float | None


class ErrorCount(BaseModel):
    code: str
    count: int


class Metrics(BaseModel):
    agent_id: str
    window: Window
    since: datetime
    until: datetime
    bucket_seconds: int
    calls: int
    succeeded: int
    success_rate: float | None  # None without calls
    p50_ms: float | None
    p95_ms: float | None
    errors_by_code: list[ErrorCount]
    buckets: list[Bucket]


class CostLine(BaseModel):
    key: str
    calls: int
    cost_micros: int
    cost_usd: float


class Costs(BaseModel):
    scope: Literal["own", "all"]
    since: datetime
    until: datetime
    calls: int
    cost_micros: int
    cost_usd: float
    by_day: list[CostLine]
    by_agent: list[CostLine]
    by_user: list[CostLine] | None = None  # the admin's view only


class TokenSpend(BaseModel):
    """What one personal API token's executions cost since a time (the executor's limit check)."""

    token_id: str
    since: datetime
    until: datetime
    calls: int
    cost_micros: int
    cost_usd: float


class AgentRank(BaseModel):
    agent_id: str
    calls: int
    cost_micros: int
    cost_usd: float


class HourCount(BaseModel):
    hour: datetime
    calls: int
    errors: int


class Dashboard(BaseModel):
    since: datetime
    until: datetime
    calls: int
    errors: int
    error_rate: float | None
    cost_micros: int
    cost_usd: float
    agents: int
    users: int
    security_events: int
    executions_per_hour: list[HourCount]
    top_agents_by_calls: list[AgentRank]
    top_agents_by_cost: list[AgentRank]
    open_alerts: list[Alert]


class AlertKind(StrEnum):
    ERROR_RATE = "error_rate"
    LATENCY = "latency"


class Alert(BaseModel):
    id: str
    agent_id: str
    kind: AlertKind
    status: Literal["open", "acked"]
    opened_at: datetime
    last_seen_at: datetime
    observed: dict[str, Any]
    baseline: dict[str, Any]
    acked_by: str | None = None
    acked_at: datetime | None = None
    note: str | None = None
    webhook: dict[str, Any] | None = None


class AlertCheck(BaseModel):
    checked_agents: int
    opened: list[Alert]
    still_open: list[str]


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=1000)] | None = None


def usd(micros: int) -> float:
    return round(micros / 1_000_000, 6)


Dashboard.model_rebuild()
