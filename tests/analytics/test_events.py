"""Event validation, pricing and the anomaly rules: the pure parts of analytics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from agora_analytics.alerts import anomalies
from agora_analytics.ingest import parse_events, price_micros, to_row
from agora_analytics.models import AlertKind, ExecutionEvent
from agora_analytics.settings import AlertRules, AnalyticsSettings, Price, PriceTable


def execution(**overrides: Any) -> dict[str, Any]:
    event = {
        "kind": "execution",
        "event_id": "exec-1",
        "occurred_at": datetime.now(UTC).isoformat(),
        "agent_id": "agent-1",
        "tool_name": "black_scholes",
        "caller_uid": "user-1",
        "status": "succeeded",
        "duration_ms": 12.5,
    }
    return event | overrides


def test_good_events_pass_and_bad_ones_are_reported_by_index_and_path() -> None:
    raw = [
        execution(event_id="a"),
        execution(event_id="b", duration_ms=-1),
        {"kind": "mystery", "event_id": "c"},
        "not an object",
        execution(event_id="d", status="exploded", extra_field=1),
        {
            "kind": "security",
            "event_id": "e",
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "agent_auth_failed",
        },
    ]
    good, bad = parse_events(raw)
    assert [event.event_id for _, event in good] == ["a", "e"]
    assert [item.index for item in bad] == [1, 2, 3, 4]
    paths = {e["path"] for item in bad for e in item.errors}
    assert "$.events[1].duration_ms" in paths
    assert "$.events[4].status" in paths
    assert "$.events[4].extra_field" in paths
    # The offending input is never echoed back.
    assert all("exploded" not in e["message"] for item in bad for e in item.errors)


@pytest.mark.parametrize(
    "occurred_at",
    [datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC) - timedelta(days=31), "yesterday"],
)
def test_implausible_times_are_refused(occurred_at: Any) -> None:
    value = occurred_at.isoformat() if isinstance(occurred_at, datetime) else occurred_at
    good, bad = parse_events([execution(occurred_at=value)])
    assert not good
    assert bad[0].errors[0]["path"] == "$.events[0].occurred_at"


def test_a_repeated_event_in_one_request_is_one_event() -> None:
    good, bad = parse_events([execution(event_id="x"), execution(event_id="x")])
    assert len(good) == 1
    assert not bad


def test_price_is_per_call_plus_agent_time_per_agent_or_default() -> None:
    table = PriceTable(
        default=Price(per_call_micros=100, per_second_micros=1_000),
        agents={"pricey": Price(per_call_micros=5_000, per_second_micros=0)},
    )
    event = ExecutionEvent.model_validate(execution(duration_ms=1500))
    assert price_micros(table, event) == (100 + 1_500, 100, 1_000)
    pricey = ExecutionEvent.model_validate(execution(agent_id="pricey", duration_ms=1500))
    assert price_micros(table, pricey) == (5_000, 5_000, 0)
    row = to_row(pricey, "executor", table, datetime.now(UTC))
    assert row["cost_micros"] == 5_000
    assert row["price_per_call_micros"] == 5_000
    assert row["source"] == "executor"


def window_row(**values: Any) -> dict[str, Any]:
    row = {
        "agent_id": "a",
        "recent_calls": 20,
        "recent_errors": 0,
        "recent_p95_ms": 100.0,
        "baseline_calls": 200,
        "baseline_errors": 2,
        "baseline_p95_ms": 100.0,
    }
    return row | values


def test_an_error_spike_against_a_quiet_baseline_is_an_anomaly() -> None:
    rules = AlertRules()
    found = anomalies(window_row(recent_errors=10), rules)
    assert set(found) == {AlertKind.ERROR_RATE}
    assert found[AlertKind.ERROR_RATE]["recent"]["error_rate"] == 0.5


@pytest.mark.parametrize(
    "values",
    [
        {"recent_errors": 2},  # 10%: below the floor
        {"recent_calls": 5, "recent_errors": 5},  # too few calls to say anything
        {"recent_errors": 10, "baseline_errors": 80},  # 50% against a 40% baseline: its normal
    ],
)
def test_normal_behaviour_is_not_an_anomaly(values: dict[str, Any]) -> None:
    assert anomalies(window_row(**values), AlertRules()) == {}


def test_latency_needs_both_a_ratio_and_an_absolute_increase() -> None:
    rules = AlertRules()
    assert AlertKind.LATENCY in anomalies(window_row(recent_p95_ms=900.0), rules)
    # Three times slower, but only by 200 ms: noise for a fast agent.
    assert anomalies(window_row(recent_p95_ms=300.0), rules) == {}
    # No baseline latency yet: nothing to compare with.
    assert anomalies(window_row(recent_p95_ms=900.0, baseline_p95_ms=None), rules) == {}


def test_production_settings_refuse_the_emulator_and_an_unsigned_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production settings see no emulator, whatever earlier tests left in the environment.
    for name in (
        "BIGQUERY_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    base = {"iam_audiences": ("https://analytics.example.com",), "project_id": "agora-prod"}
    with pytest.raises(ValidationError, match="for local runs only"):
        AnalyticsSettings(BIGQUERY_EMULATOR_HOST="127.0.0.1:9050", **base)
    with pytest.raises(ValidationError, match="needs a signing secret"):
        AnalyticsSettings(alert_webhook_url="https://hooks.example.com/x", **base)
    with pytest.raises(ValidationError, match="must be https"):
        AnalyticsSettings(
            alert_webhook_url="http://hooks.example.com/x", alert_webhook_secret="s", **base
        )
    AnalyticsSettings(
        alert_webhook_url="https://hooks.example.com/x", alert_webhook_secret="s", **base
    )
