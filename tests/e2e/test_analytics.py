"""Analytics for real: executions through the gateway land in BigQuery (emulator) via the
executor's outbox, and show up in metrics, costs and the dashboard with exact counts."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agora_analytics.app import create_app as create_analytics
from agora_analytics.bigquery import EventStore, make_client
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_devstack.agents import local_agent, registration_card
from agora_devstack.emulators import EmulatorPorts, EmulatorSuite
from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import OPTION, call, deploy_as_vetting, execute
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
TEXT = {"text": "Analytics counts every execution. Each one is priced. Nothing is lost."}
UNEVEN = {"weights": [0.7, 0.7], "returns": [[0.01, 0.02], [0.03, 0.01]]}  # agent says no


def deploy(stack: Stack, owner: EmulatorUser, folder: str) -> str:
    body = registration_card(local_agent(folder), folder)
    body["name"] = unique_name(folder.capitalize())
    registered = call(stack, "POST", "/agents/register", owner, json=body)
    assert registered.status_code == 201, registered.text
    agent_id: str = registered.json()["id"]
    stack.set_status(agent_id, "vetted")
    assert deploy_as_vetting(stack, agent_id).status_code == 200
    return agent_id


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, EmulatorUser]:
    return {
        "owner": stack.auth.sign_up(name="owner"),
        "user": stack.auth.sign_up(name="user"),
        "other": stack.auth.sign_up(name="other"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
    }


@pytest.fixture(scope="module")
def fleet(stack: Stack, people: dict[str, EmulatorUser]) -> dict[str, str]:
    """Genesis and QuantFlow, active, executed by `user`: 3 + 4 successes, 2 failures."""
    agents = {name: deploy(stack, people["owner"], name) for name in ("genesis", "quantflow")}
    user = people["user"]
    for _ in range(3):
        answer = execute(stack, user, agents["genesis"], "text_statistics", TEXT)
        assert answer.json()["status"] == "succeeded", answer.text
    for _ in range(4):
        answer = execute(stack, user, agents["quantflow"], "black_scholes", OPTION)
        assert answer.json()["status"] == "succeeded", answer.text
    for _ in range(2):
        answer = execute(stack, user, agents["quantflow"], "portfolio_metrics", UNEVEN)
        assert answer.status_code == 200 and answer.json()["status"] == "failed", answer.text
    return agents


def metrics(stack: Stack, who: EmulatorUser | None, agent_id: str, **params: Any) -> httpx.Response:
    return call(stack, "GET", f"/analytics/metrics/{agent_id}", who, params=params)


def test_executions_show_up_in_metrics_with_exact_counts(
    stack: Stack, people: dict[str, EmulatorUser], fleet: dict[str, str]
) -> None:
    def quantflow_counted() -> dict[str, Any] | None:
        body = metrics(stack, people["owner"], fleet["quantflow"], window="1h").json()
        return body if body.get("calls") == 6 else None

    body = eventually(quantflow_counted)
    assert body, "QuantFlow's executions never reached analytics"
    assert (body["calls"], body["succeeded"]) == (6, 4)
    assert body["success_rate"] == pytest.approx(4 / 6, abs=1e-6)
    assert 0 < body["p50_ms"] <= body["p95_ms"] < 5_000
    [errors] = body["errors_by_code"]
    assert errors["count"] == 2
    assert sum(b["calls"] for b in body["buckets"]) == 6
    assert body["bucket_seconds"] == 300

    genesis = metrics(stack, people["admin"], fleet["genesis"], window="24h").json()
    assert (genesis["calls"], genesis["succeeded"], genesis["errors_by_code"]) == (3, 3, [])


def test_costs_are_the_callers_own_and_add_up(
    stack: Stack, people: dict[str, EmulatorUser], fleet: dict[str, str]
) -> None:
    mine = eventually(
        lambda: (
            body
            if (body := call(stack, "GET", "/analytics/costs", people["user"]).json()).get("calls")
            == 9
            else None
        )
    )
    assert mine["scope"] == "own"
    assert mine["cost_micros"] == sum(line["cost_micros"] for line in mine["by_agent"]) > 0
    assert {line["key"]: line["calls"] for line in mine["by_agent"]} == {
        fleet["genesis"]: 3,
        fleet["quantflow"]: 6,
    }
    # Default price: 100 per call plus agent time, so at least 100 micro-USD per call.
    assert mine["cost_micros"] >= 9 * 100
    assert mine["by_user"] is None

    others = call(stack, "GET", "/analytics/costs", people["other"]).json()
    assert (others["calls"], others["cost_micros"]) == (0, 0)

    everyone = call(stack, "GET", "/analytics/costs", people["admin"], params={"scope": "all"})
    assert everyone.status_code == 200
    by_user = {line["key"]: line["calls"] for line in everyone.json()["by_user"]}
    assert by_user[people["user"].uid] == 9


def test_the_dashboard_shows_them(
    stack: Stack, people: dict[str, EmulatorUser], fleet: dict[str, str]
) -> None:
    response = call(stack, "GET", "/analytics/dashboard", people["admin"])
    assert response.status_code == 200, response.text
    board = response.json()
    ranked = {a["agent_id"]: a["calls"] for a in board["top_agents_by_calls"]}
    assert ranked.get(fleet["quantflow"]) == 6
    assert ranked.get(fleet["genesis"]) == 3
    assert board["calls"] >= 9 and board["errors"] >= 2
    assert sum(h["calls"] for h in board["executions_per_hour"]) == board["calls"]
    assert isinstance(board["open_alerts"], list)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("admin", 200), ("other", 403), ("user", 403), (None, 401)],
)
def test_metrics_matrix(
    stack: Stack,
    people: dict[str, EmulatorUser],
    fleet: dict[str, str],
    who: str | None,
    expected: int,
) -> None:
    response = metrics(stack, people[who] if who else None, fleet["genesis"])
    assert response.status_code == expected, response.text
    if expected != 200:
        assert "error" in response.json()


def test_metrics_of_an_unknown_agent_is_404(stack: Stack, people: dict[str, EmulatorUser]) -> None:
    response = metrics(stack, people["admin"], "no-such-agent")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "who", "expected"),
    [
        ("/analytics/costs", {"scope": "all"}, "user", 403),
        ("/analytics/costs", {}, None, 401),
        ("/analytics/dashboard", {}, "owner", 403),
        ("/analytics/alerts", {}, "user", 403),
        ("/analytics/costs", {"days": 0}, "user", 422),
        ("/analytics/metrics/x", {"window": "2h"}, "admin", 422),
    ],
)
def test_reads_matrix(
    stack: Stack,
    people: dict[str, EmulatorUser],
    path: str,
    params: dict[str, Any],
    who: str | None,
    expected: int,
) -> None:
    response = call(stack, "GET", path, people[who] if who else None, params=params)
    assert response.status_code == expected, response.text
    assert "error" in response.json()


def test_ingestion_is_not_public(stack: Stack, people: dict[str, EmulatorUser]) -> None:
    event = {"kind": "security", "event_id": "x", "occurred_at": "2026-01-01T00:00:00Z"}
    response = call(stack, "POST", "/analytics/log", people["admin"], json={"events": [event]})
    assert response.status_code == 404


# --- BigQuery stopped in the middle of a run ---------------------------------------------------


@pytest.fixture
def own_bigquery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A BigQuery emulator of this test's own (it gets stopped): (host, process group)."""
    suite = EmulatorSuite(
        EmulatorPorts.free(),
        project_id="demo-agora-test",
        log_dir=tmp_path_factory.mktemp("bq-logs"),
        only=["bigquery"],
    )
    with suite:
        yield suite.env()["BIGQUERY_EMULATOR_HOST"], suite.children["bigquery"].pid


def test_bigquery_stopped_loses_nothing_and_doubles_nothing(
    stack: Stack,
    people: dict[str, EmulatorUser],
    fleet: dict[str, str],
    own_bigquery: tuple[str, int],
) -> None:
    """Executions go on while BigQuery is stopped (SIGSTOP: it hangs, the worst case); after it
    resumes, the outbox delivers, and every execution is counted exactly once."""
    host, pid = own_bigquery
    analytics_port, executor_port = free_port(), free_port()
    analytics_url = f"http://127.0.0.1:{analytics_port}"
    user = UserIdentity(kind=CallerKind.USER, uid=people["user"].uid)
    admin = UserIdentity(kind=CallerKind.USER, uid=people["admin"].uid, admin=True)
    settings = stack.analytics_settings(
        bigquery_emulator_host=host,
        bigquery_timeout_s=1.0,
        bigquery_retry_deadline_s=0.5,
        iam_audiences=(analytics_url,),
        port=analytics_port,
    )
    urls = {"registry": stack.registry, "auth": stack.auth_service, "analytics": analytics_url}
    with (
        serving(create_analytics(settings), analytics_port),
        stack.serve_executor(
            port=executor_port,
            service_urls=urls,
            egress_local_endpoints=(stack.deployed_endpoint(fleet["genesis"]),),
        ) as executor,
    ):

        def run(count: int) -> list[str]:
            ids = []
            body = {"agent_id": fleet["genesis"], "tool_name": "text_statistics", "payload": TEXT}
            for _ in range(count):
                started = time.monotonic()
                response = httpx.post(
                    f"{executor}/execute",
                    json=body,
                    headers=stack.as_service("gateway", executor, user),
                    timeout=30,
                )
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "succeeded"
                assert time.monotonic() - started < 2  # never waits for analytics
                ids.append(response.json()["execution_id"])
            return ids

        def stored_ids() -> set[str]:
            sql = (
                "SELECT DISTINCT event_id FROM "  # noqa: S608
                f"`{settings.project_id}.{settings.dataset}.{settings.table}` "
                "WHERE agent_id = @a"
            )
            store = EventStore(make_client(settings), settings)
            try:
                rows = asyncio.run(store.query(sql, {"a": fleet["genesis"]}))
            finally:
                store.close()
            return {row["event_id"] for row in rows}

        def shipped_flags(ids: list[str]) -> list[bool]:
            async def read() -> list[bool]:
                db = make_firestore_client(settings)
                try:
                    docs = [db.collection("execution_logs").document(i) for i in ids]
                    return [snap.get("shipped") async for snap in db.get_all(docs)]
                finally:
                    await close_firestore_client(db)

            return asyncio.run(read())

        before = run(5)
        os.killpg(pid, signal.SIGSTOP)  # BigQuery stops answering
        try:
            during = run(10)
            time.sleep(2)  # the outbox tries, fails, and backs off
            # They wait in the outbox: stored in Firestore, not yet shipped.
            assert shipped_flags(during) == [False] * 10
        finally:
            os.killpg(pid, signal.SIGCONT)
        after = run(5)
        ours = set(before + during + after)
        assert len(ours) == 20
        assert eventually(lambda: ours <= stored_ids(), seconds=60), "executions were lost"
        assert eventually(lambda: all(shipped_flags(list(ours))), seconds=10)

        # Exactly once as the reads count: metrics see each stored event once, retries or not.
        distinct = len(stored_ids())
        response = httpx.get(
            f"{analytics_url}/metrics/{fleet['genesis']}",
            params={"window": "1h"},
            headers=stack.as_service("gateway", analytics_url, admin),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.json()["calls"] == distinct


def test_a_burst_of_refusals_is_one_security_event(stack: Stack) -> None:
    """The gateway counts 401/403 per client address and reports the burst, once."""
    address = f"198.51.100.{int(time.time()) % 250 + 1}"
    settings = stack.analytics_settings()
    with stack.serve_gateway(
        trusted_proxy_hops=1, refusal_burst_threshold=5, refusal_burst_window_s=3600
    ) as gateway:
        for _ in range(8):
            response = httpx.get(
                f"{gateway}/api/v1/analytics/costs",
                headers={"authorization": "Bearer not-a-token", "x-forwarded-for": address},
            )
            assert response.status_code == 401

    def reported() -> list[dict[str, Any]]:
        sql = (
            f"SELECT * FROM `{settings.project_id}.{settings.dataset}.{settings.table}` "  # noqa: S608
            "WHERE kind = 'security' AND client_ip = @ip"
        )
        store = EventStore(make_client(settings), settings)
        try:
            return asyncio.run(store.query(sql, {"ip": address}))
        finally:
            store.close()

    rows = eventually(reported, seconds=20)
    assert len(rows) == 1
    [row] = rows
    assert (row["security_type"], row["event_count"], row["source"]) == (
        "auth_failure_burst",
        5,
        "gateway",
    )
