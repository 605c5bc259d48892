"""`GET /internal/tokens/{token_id}/spend` over HTTP on the BigQuery emulator: one token's cost
since a time, for the executor only; and the events table gaining the `token_id` column."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.cloud import bigquery

from agora_analytics.bigquery import SCHEMA, EventStore, make_client
from agora_common.models import CallerKind, TokenScope, UserIdentity
from tests.analytics.conftest import AnalyticsApp, execution

pytestmark = pytest.mark.integration
TOKEN_USER = UserIdentity(
    kind=CallerKind.USER, uid="user-1", token_id="tok-user", token_scope=TokenScope.EXECUTE
)


async def spend(
    analytics: AnalyticsApp,
    token_id: str,
    since: datetime | str,
    *,
    service: str | None = "executor",
    as_user: UserIdentity | None = None,
) -> httpx.Response:
    value = since.isoformat() if isinstance(since, datetime) else since
    path = f"/internal/tokens/{token_id}/spend"
    return await analytics.call("GET", path, as_user, service=service, params={"since": value})


async def test_one_tokens_cost_since_a_time_counts_only_that_token(
    analytics: AnalyticsApp,
) -> None:
    mine, other = f"tok-{secrets.token_hex(4)}", f"tok-{secrets.token_hex(4)}"
    now = datetime.now(UTC)
    first = execution(token_id=mine, duration_ms=1000)  # 100 + 1,000 micro-USD
    events = [
        first,
        execution(token_id=mine, duration_ms=0, status="failed"),  # a failed call costs too
        first,  # redelivered: counted once
        execution(token_id=other, duration_ms=5000),
        execution(duration_ms=5000),  # the user's ID token: no token
        execution(token_id=mine, occurred_at=(now - timedelta(hours=2)).isoformat()),
    ]
    logged = await analytics.log(events)
    assert logged.status_code == 200, logged.text
    assert await analytics.count("token_id = @t", t=mine) == 3

    response = await spend(analytics, mine, now - timedelta(hours=1))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_id"] == mine
    assert (body["calls"], body["cost_micros"]) == (2, 1_100 + 100)
    assert body["cost_usd"] == pytest.approx(0.0012)
    wider = (await spend(analytics, mine, now - timedelta(hours=3))).json()
    assert (wider["calls"], wider["cost_micros"]) == (3, 1_200 + 100 + 12)
    unknown = (await spend(analytics, "tok-never-used", now - timedelta(hours=1))).json()
    assert (unknown["calls"], unknown["cost_micros"]) == (0, 0)


@pytest.mark.parametrize(
    ("service", "as_user", "status", "code"),
    [
        ("gateway", None, 403, "CALLER_NOT_ALLOWED"),  # the public side never reaches it
        ("gateway", TOKEN_USER, 403, "CALLER_NOT_ALLOWED"),  # nor a token's owner through it
        ("registry", None, 403, None),
        ("vetting", None, 403, None),
        (None, None, 401, None),
    ],
)
async def test_only_the_executor_reads_a_tokens_spend(
    analytics: AnalyticsApp,
    service: str | None,
    as_user: UserIdentity | None,
    status: int,
    code: str | None,
) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    response = await spend(analytics, "tok-user", since, service=service, as_user=as_user)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "since",
    [
        "2026-12-01T00:00:00",  # no time zone
        (datetime.now(UTC) - timedelta(days=32)).isoformat(),
        (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "last month",
    ],
)
async def test_a_bad_since_is_422_with_its_path(analytics: AnalyticsApp, since: str) -> None:
    response = await spend(analytics, "tok-user", since)
    assert response.status_code == 422, response.text
    paths = [detail["path"] for detail in response.json()["error"]["details"]]
    assert any(path.endswith("since") for path in paths), paths


async def test_an_old_events_table_gains_the_token_column(analytics: AnalyticsApp) -> None:
    """A table made before `token_id` existed gets the column at start-up, appended, once.

    The emulator changes only the table's metadata (its storage keeps the old columns), so rows
    are not inserted here; it is ephemeral, so a local table is always made with the new schema.
    """
    settings = analytics.settings.model_copy(update={"table": f"old_{secrets.token_hex(4)}"})
    client = make_client(settings)
    old = [field for field in SCHEMA if field.name != "token_id"]
    table_id = f"{settings.project_id}.{settings.dataset}.{settings.table}"
    client.create_table(bigquery.Table(table_id, schema=old))
    try:
        for _ in range(2):  # a second start finds nothing to add
            store = EventStore(client, settings)
            await store.ensure_table()
            names = [field.name for field in client.get_table(table_id).schema]
            assert names == [field.name for field in SCHEMA]
            assert names[-1] == "token_id"
    finally:
        client.close()
