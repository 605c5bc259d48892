"""`POST /log` over HTTP into the BigQuery emulator: who may write, bad events, no doubles."""

from __future__ import annotations

import asyncio

import pytest

from agora_common.models import CallerKind, UserIdentity
from tests.analytics.conftest import AnalyticsApp, execution

pytestmark = pytest.mark.integration


async def test_the_executor_s_events_land_in_bigquery_priced(analytics: AnalyticsApp) -> None:
    event = execution(agent_id="priced", duration_ms=2000)
    response = await analytics.log([event])
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "rejected": []}
    sql = f"SELECT * FROM `{analytics.store.table_id}` WHERE event_id = @id"  # noqa: S608
    [row] = await analytics.store.query(sql, {"id": event["event_id"]})
    # Default price: 100 per call + 1,000 per second of agent time (micro-USD).
    assert row["cost_micros"] == 100 + 2_000
    assert row["source"] == "executor"
    assert row["kind"] == "execution"
    assert row["agent_id"] == "priced"


async def test_the_gateway_may_write_security_events(analytics: AnalyticsApp) -> None:
    event = {
        "kind": "security",
        "event_id": "burst-test-1",
        "occurred_at": execution()["occurred_at"],
        "type": "auth_failure_burst",
        "client_ip": "203.0.113.7",
        "count": 20,
    }
    response = await analytics.log([event], service="gateway")
    assert response.status_code == 200, response.text
    assert await analytics.count("event_id = @id", id="burst-test-1") == 1


@pytest.mark.parametrize("service", ["registry", "auth", "vetting", "tool", None])
async def test_other_services_and_anonymous_callers_cannot_write(
    analytics: AnalyticsApp, service: str | None
) -> None:
    event = execution(agent_id="forbidden")
    response = await analytics.call("POST", "/log", None, service=service, json={"events": [event]})
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert await analytics.count("agent_id = 'forbidden'") == 0


async def test_a_bad_event_never_blocks_the_good_ones(analytics: AnalyticsApp) -> None:
    good = [execution(agent_id="mixed") for _ in range(3)]
    bad = execution(agent_id="mixed", status="exploded")
    response = await analytics.log([good[0], bad, good[1], {"kind": "nope"}, good[2]])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 3
    assert [r["index"] for r in body["rejected"]] == [1, 3]
    assert body["rejected"][0]["errors"][0]["path"] == "$.events[1].status"
    assert await analytics.count("agent_id = 'mixed'") == 3


async def test_only_bad_events_is_a_422_envelope(analytics: AnalyticsApp) -> None:
    response = await analytics.log([execution(duration_ms="slow"), "nonsense"])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_EVENTS"
    assert {d["path"] for d in error["details"]} >= {"$.events[0].duration_ms", "$.events[1]"}


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "x"}, [1, 2]])
async def test_malformed_bodies_are_422(analytics: AnalyticsApp, body: object) -> None:
    response = await analytics.call("POST", "/log", None, service="executor", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_too_many_events_in_one_request_is_422(analytics: AnalyticsApp) -> None:
    limit = analytics.settings.max_events_per_request
    events = [execution() for _ in range(limit + 1)]
    response = await analytics.log(events)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.events"


async def test_a_redelivered_batch_counts_once(analytics: AnalyticsApp) -> None:
    """The sender retries after a lost answer: the rows may be stored twice (the emulator has
    no insertId de-duplication), but every read counts each event once."""
    events = [execution(agent_id="redelivered", caller_uid="redelivery-user") for _ in range(5)]
    for _ in range(2):
        assert (await analytics.log(events)).status_code == 200
    stored = await analytics.count("agent_id = 'redelivered'")
    assert stored in (5, 10)  # 5 where insertId de-duplication works (BigQuery), 10 here
    user = UserIdentity(kind=CallerKind.USER, uid="redelivery-user")
    costs = await analytics.call("GET", "/costs", user)
    assert costs.status_code == 200, costs.text
    assert costs.json()["calls"] == 5


async def test_concurrent_requests_share_inserts_and_all_land(analytics: AnalyticsApp) -> None:
    batches = [[execution(agent_id="concurrent") for _ in range(20)] for _ in range(10)]
    answers = await asyncio.gather(*(analytics.log(batch) for batch in batches))
    assert all(a.status_code == 200 and a.json()["accepted"] == 20 for a in answers)
    assert await analytics.count("agent_id = 'concurrent'") == 200
