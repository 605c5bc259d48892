"""Anomaly alerts over the emulators: one spike, one alert; admins only; acknowledging."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora_analytics.cli import check_alerts
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.egress import EgressGuard
from agora_common.models import CallerKind, UserIdentity
from agora_common.webhooks import SIGNATURE_HEADER, WebhookSender
from tests.analytics.conftest import AnalyticsApp, execution
from tests.support.servers import serving

pytestmark = pytest.mark.integration
ADMIN = UserIdentity(kind=CallerKind.USER, uid="admin-1", admin=True)
USER = UserIdentity(kind=CallerKind.USER, uid="user-1")


@pytest.fixture(scope="module")
def analytics_overrides() -> dict[str, Any]:
    # Webhooks go through the egress guard: this one points at a private address, so every
    # delivery is refused and recorded as failed, never sent.
    return {"alert_webhook_url": "https://10.0.0.1/hook", "alert_webhook_secret": "whsec"}


def history(agent_id: str, *, errors_recent: int) -> list[dict[str, Any]]:
    """Three days of healthy calls, then 20 calls in the last minutes."""
    now = datetime.now(UTC)
    events = [
        execution(agent_id=agent_id, occurred_at=(now - timedelta(hours=h)).isoformat())
        for h in range(1, 72)
    ]
    for i in range(20):
        failed = i < errors_recent
        events.append(
            execution(
                agent_id=agent_id,
                occurred_at=(now - timedelta(minutes=1 + i % 10)).isoformat(),
                status="error" if failed else "succeeded",
                error_code="AGENT_UNAVAILABLE" if failed else None,
            )
        )
    return events


async def test_one_error_spike_raises_exactly_one_alert(analytics: AnalyticsApp) -> None:
    await analytics.log(history("spiky", errors_recent=12))
    await analytics.log(history("calm", errors_recent=1))

    first = await analytics.call("POST", "/alerts/check", ADMIN)
    assert first.status_code == 200, first.text
    opened = first.json()["opened"]
    assert [(a["agent_id"], a["kind"]) for a in opened] == [("spiky", "error_rate")]
    assert opened[0]["observed"] == {"calls": 20, "error_rate": 0.6}
    # The webhook target is private: refused by the egress guard, recorded, nothing sent.
    assert opened[0]["webhook"]["status"] == "failed"

    # The spike goes on, the check runs again (by the scheduler this time): still one alert.
    again = await analytics.call("POST", "/internal/alerts/check", None, service="alerts-scheduler")
    assert again.status_code == 200, again.text
    assert again.json()["opened"] == []
    assert again.json()["still_open"] == ["spiky.error_rate"]

    listed = await analytics.call("GET", "/alerts", ADMIN)
    assert [a["id"] for a in listed.json()] == [opened[0]["id"]]


async def test_acknowledging_is_audited_and_lets_a_new_spike_alert(
    analytics: AnalyticsApp,
) -> None:
    [alert] = (await analytics.call("GET", "/alerts", ADMIN)).json()
    acked = await analytics.call(
        "POST", f"/alerts/{alert['id']}/ack", ADMIN, json={"note": "agent redeployed"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acked"
    assert acked.json()["acked_by"] == "admin-1"
    twice = await analytics.call("POST", f"/alerts/{alert['id']}/ack", ADMIN)
    assert twice.status_code == 409
    assert (await analytics.call("GET", "/alerts", ADMIN)).json() == []

    db = make_firestore_client(analytics.settings)
    try:
        entries = [d.to_dict() async for d in db.collection("audit_log").stream()]
    finally:
        await close_firestore_client(db)
    assert [(e["action"], e["target"]["alert_id"]) for e in entries] == [("alert.ack", alert["id"])]

    # Still spiking: acknowledged, so the next check opens a new alert.
    reopened = await analytics.call("POST", "/alerts/check", ADMIN)
    assert [a["agent_id"] for a in reopened.json()["opened"]] == ["spiky"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/alerts"),
        ("POST", "/alerts/check"),
        ("POST", "/alerts/some-id/ack"),
        ("GET", "/dashboard"),
    ],
)
async def test_alert_routes_are_for_admins(analytics: AnalyticsApp, method: str, path: str) -> None:
    assert (await analytics.call(method, path, USER)).status_code == 403
    assert (await analytics.call(method, path)).status_code == 401  # anonymous via the gateway


async def test_only_the_scheduler_runs_the_scheduled_check(analytics: AnalyticsApp) -> None:
    for service in ("gateway", "executor", "analytics", "vetting"):
        response = await analytics.call("POST", "/internal/alerts/check", None, service=service)
        assert response.status_code == 403, service
        assert "error" in response.json()


async def test_an_unknown_alert_is_404(analytics: AnalyticsApp) -> None:
    response = await analytics.call("POST", "/alerts/nope/ack", ADMIN)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ALERT_NOT_FOUND"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((await request.body(), request.headers[SIGNATURE_HEADER]))
        return JSONResponse({"ok": True})

    with serving(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url, received


async def test_webhooks_are_signed_and_verifiable(
    receiver: tuple[str, list[tuple[bytes, str]]],
) -> None:
    url, received = receiver
    # A test guard admitting the receiver's endpoint: the services give webhooks none.
    port = int(url.rsplit(":", 1)[1])
    sender = WebhookSender(EgressGuard(allowed_endpoints=[f"127.0.0.1:{port}"]))
    try:
        outcome = await sender.send(f"{url}/hook", "whsec", "alert.opened", {"id": "a1"})
    finally:
        await sender.aclose()
    assert outcome["status"] == "delivered"
    [(body, signature)] = received
    assert json.loads(body) == {"event": "alert.opened", "data": {"id": "a1"}}
    stamp, mac = (part.split("=", 1)[1] for part in signature.split(","))
    expected = hmac.new(b"whsec", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)


async def test_webhooks_to_private_addresses_are_never_sent(
    receiver: tuple[str, list[tuple[bytes, str]]],
) -> None:
    url, received = receiver
    sender = WebhookSender(EgressGuard())  # production: public addresses only
    try:
        outcome = await sender.send(f"{url}/hook", "whsec", "alert.opened", {"id": "a1"})
    finally:
        await sender.aclose()
    assert outcome["status"] == "failed"
    assert received == []


async def test_the_cli_runs_the_same_check(
    analytics: AnalyticsApp, capsys: pytest.CaptureFixture[str]
) -> None:
    """Locally (no Cloud Scheduler): `python -m agora_analytics.cli check-alerts`."""
    assert await check_alerts(analytics.settings) == 0
    out = capsys.readouterr().out
    assert "opened 0 alerts" in out
    assert "still open: spiky.error_rate" in out
