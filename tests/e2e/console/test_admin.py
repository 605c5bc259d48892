"""The admin pages and the usage page as people use them: an admin works the vetting queue (the
scan's receipt, a reasoned approval that deploys the agent), grants and revokes the admin role,
watches the dashboard count executions as they happen, acknowledges an alert; any user reads
their own usage. Charts are read through the numbers they carry (`data-series`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from agora_devstack.agents import local_agent, registration_card
from tests.e2e.conftest import Stack, unique_name
from tests.e2e.console.support import PHONE, Browser, assert_accessible, go, snap
from tests.e2e.test_execute import OPTION, call, execute
from tests.support.factories import card
from tests.support.firebase import EmulatorUser
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
UNEVEN = {"weights": [0.7, 0.7], "returns": [[0.01, 0.02], [0.03, 0.01]]}  # QuantFlow says no


def register(stack: Stack, owner: EmulatorUser, body: dict[str, Any]) -> str:
    answer = call(stack, "POST", "/agents/register", owner, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def latest_scan(stack: Stack, admin: EmulatorUser, agent_id: str) -> dict[str, Any] | None:
    response = call(stack, "GET", f"/vetting/{agent_id}/scan", admin)
    return response.json() if response.status_code == 200 else None


def calls_counted(stack: Stack, admin: EmulatorUser, agent_id: str, at_least: int) -> bool:
    """Ingestion is asynchronous (the executor's outbox): wait until analytics has them."""
    answer = call(stack, "GET", f"/analytics/metrics/{agent_id}", admin, params={"window": "1h"})
    return answer.status_code == 200 and answer.json()["calls"] >= at_least


def failures_counted(stack: Stack, admin: EmulatorUser, agent_id: str, at_least: int) -> bool:
    answer = call(stack, "GET", f"/analytics/metrics/{agent_id}", admin, params={"window": "1h"})
    body = answer.json() if answer.status_code == 200 else {}
    return bool(body) and body["calls"] - body["succeeded"] >= at_least


def chart(page: Page, title: str) -> Locator:
    return page.get_by_role("img", name=title)


def series(page: Page, title: str) -> dict[str, Any]:
    """The numbers a chart draws: {labels, series: [{label, values}]}."""
    raw = chart(page, title).get_attribute("data-series")
    assert raw, f"the chart {title!r} carries no data-series"
    return dict(json.loads(raw))


def total(data: dict[str, Any], label: str) -> float:
    [found] = [s for s in data["series"] if s["label"] == label]
    return float(sum(value or 0 for value in found["values"]))


# --- the vetting queue -------------------------------------------------------------------------


def test_an_admin_approves_a_scanned_agent_and_its_owner_sees_it_active(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser], agent_sources: str
) -> None:
    owner, admin = people["owner"], people["admin"]
    body = registration_card(local_agent("genesis"), "genesis")
    body["name"] = unique_name("Genesis")
    agent_id = register(stack, owner, body)
    receipt = eventually(lambda: latest_scan(stack, admin, agent_id), seconds=180)
    assert receipt and receipt["verdict"] == "clean", receipt

    page = browser.open(admin, path="/admin/queue?verdict=clean")
    entry = page.locator(f'li[data-agent="{agent_id}"]')
    expect(entry.get_by_role("heading", level=2)).to_contain_text(body["name"])
    scan = entry.get_by_role("region", name="Scan receipt")
    expect(scan.locator("[data-verdict]")).to_have_text("clean")
    expect(scan.get_by_role("table")).to_contain_text("bandit")
    # Clean: nothing to accept before approving.
    expect(entry.get_by_text("I have read the findings")).to_have_count(0)
    assert_accessible(page)
    snap(page, "queue")

    entry.get_by_label("Reason (required)").fill("Clean scan; the card says what it does.")
    entry.get_by_role("button", name="Approve", exact=True).click()
    done = page.locator(".notice-ok")
    expect(done).to_contain_text(f"{body['name']} was approved and deployed", timeout=60_000)
    expect(done.locator("[data-status]")).to_have_text("Active")
    expect(entry).to_have_count(0)  # the queue updated: it left it

    seen = browser.open(owner)
    go(seen, f"/agents/{agent_id}")
    expect(seen.get_by_role("heading", level=1).locator("[data-status]")).to_have_text("Active")


def test_reject_suspend_and_reinstate_need_a_reason(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    owner, admin = people["owner"], people["admin"]
    pending = register(stack, owner, card(unique_name("Draft")))
    live = register(stack, owner, card(unique_name("Live")))
    stack.set_status(live, "vetted", "active")
    # The platform refuses an empty reason too (422 on the field), not only the page.
    refused = call(stack, "POST", f"/vetting/{live}/suspend", admin, json={"reason": ""})
    assert refused.status_code == 422, refused.text

    # Its card's URL answers nothing: the scan is not clean, so approving needs an explicit
    # acceptance of what it found.
    scanned = eventually(lambda: latest_scan(stack, admin, pending), seconds=180)
    assert scanned and scanned["verdict"] != "clean", scanned

    page = browser.open(admin, path="/admin/queue")
    entry = page.locator(f'li[data-agent="{pending}"]')
    expect(entry.locator("[data-verdict]")).to_have_text(scanned["verdict"])
    reason = entry.get_by_label("Reason (required)")
    reason.fill("Looks fine to me.")
    accept = entry.get_by_label("I have read the findings and approve despite them")
    expect(accept).not_to_be_checked()
    entry.get_by_role("button", name="Approve", exact=True).click()
    expect(entry.locator(".field-error")).to_contain_text("Tick the box to accept")
    expect(accept).to_have_attribute("aria-invalid", "true")
    reason.fill("")
    entry.get_by_role("button", name="Reject", exact=True).click()
    expect(entry.locator(".field-error")).to_contain_text("Give a reason to reject")
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("Not a real agent: its URL answers nothing.")
    entry.get_by_role("button", name="Reject", exact=True).click()
    confirm = entry.get_by_role("group", name="Confirm: Reject")
    expect(confirm).to_contain_text("The owner sees your reason")
    confirm.get_by_role("button", name="Yes, reject").click()
    expect(entry).to_have_count(0)
    expect(page.locator(".notice-ok")).to_contain_text("was rejected")
    rejected = call(stack, "GET", f"/agents/{pending}", owner).json()
    assert (rejected["status"], rejected["status_reason"]) == (
        "rejected",
        "Not a real agent: its URL answers nothing.",
    )

    page.get_by_label("Agent ID").fill(live)
    page.get_by_role("button", name="Find the agent").click()
    found = page.locator(f'div.card[data-agent="{live}"]')
    expect(found.locator("[data-status]")).to_have_text("Active")
    found.get_by_role("button", name="Suspend", exact=True).click()
    expect(found.locator(".field-error")).to_contain_text("Give a reason to suspend")
    found.get_by_label("Reason (required)").fill("Reported for abuse.")
    found.get_by_role("button", name="Suspend", exact=True).click()
    sure = found.get_by_role("group", name="Confirm: Suspend")
    sure.get_by_role("button", name="Yes, suspend").click()
    expect(found.locator("[data-status]")).to_have_text("Suspended")
    assert_accessible(page)

    found.get_by_role("button", name="Reinstate", exact=True).click()
    expect(found.locator(".field-error")).to_contain_text("Give a reason to reinstate")
    found.get_by_label("Reason (required)").fill("The report was unfounded.")
    found.get_by_role("button", name="Reinstate", exact=True).click()
    expect(found.locator("[data-status]")).to_have_text("Active")
    assert call(stack, "GET", f"/agents/{live}", owner).json()["status"] == "active"


# --- users -------------------------------------------------------------------------------------


def test_an_admin_grants_then_revokes_the_admin_role(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    grantee = stack.auth.sign_up(name="grantee")
    page = browser.open(people["admin"], path="/admin/users")
    page.get_by_label("Find by email, name or uid").fill(grantee.email)
    row = page.locator(f'tr[data-uid="{grantee.uid}"]')
    more = page.get_by_role("button", name="More users")
    while row.count() == 0 and more.is_visible():
        more.click()
        page.wait_for_timeout(300)
    expect(row).to_contain_text("User")
    assert_accessible(page)
    snap(page, "users")

    row.get_by_role("button", name=f"Grant admin to {grantee.email}").click()
    expect(row.locator(".badge-admin")).to_have_text("Admin")
    listed = call(stack, "GET", "/auth/admin/users", people["admin"], params={"limit": 100})
    assert listed.status_code == 200

    row.get_by_role("button", name=f"Revoke admin from {grantee.email}").click()
    confirm = row.get_by_role("group", name=f"Confirm revoking admin from {grantee.email}")
    expect(confirm).to_contain_text("Their sessions end now")
    confirm.get_by_role("button", name="Yes, revoke admin").click()
    expect(row.locator(".badge-admin")).to_have_count(0)
    expect(row.get_by_role("button", name=f"Grant admin to {grantee.email}")).to_be_visible()


# --- analytics ---------------------------------------------------------------------------------

EXECUTIONS_SUM = """title => {
  const chart = document.querySelector(`[role=img][aria-label^="${title}:"]`);
  if (!chart) return -1;
  const data = JSON.parse(chart.dataset.series);
  return data.series[0].values.reduce((sum, value) => sum + (value || 0), 0);
}"""


def test_the_dashboard_counts_executions_and_refreshes_itself(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser], quantflow: dict[str, Any]
) -> None:
    admin, user = people["admin"], stack.auth.sign_up(name="caller")
    made = 3
    for _ in range(made):
        answer = execute(stack, user, quantflow["id"], "black_scholes", OPTION)
        assert answer.json()["status"] == "succeeded", answer.text
    assert eventually(lambda: calls_counted(stack, admin, quantflow["id"], made))

    page = browser.open(admin, path="/admin/dashboard")
    expect(chart(page, "Executions per hour")).to_be_visible()
    per_hour = series(page, "Executions per hour")
    before = total(per_hour, "Executions")
    assert before >= made
    assert len(per_hour["labels"]) >= 24 and per_hour["series"][1]["label"] == "Errors"
    top = series(page, "Top agents by executions")
    assert total(top, "Executions") >= made
    expect(page.locator('[data-stat="calls"]')).not_to_have_text("0")
    expect(page.get_by_role("img", name="Latency by agent")).to_be_visible()
    assert_accessible(page)
    snap(page, "dashboard")

    # One more execution: the page shows it by itself, without a reload.
    refreshed = page.get_by_test_id("refreshed").get_attribute("datetime")
    answer = execute(stack, user, quantflow["id"], "black_scholes", OPTION)
    assert answer.json()["status"] == "succeeded", answer.text
    page.wait_for_function(
        f"([title, before]) => ({EXECUTIONS_SUM})(title) > before",
        arg=["Executions per hour", before],
        timeout=30_000,
    )
    assert page.get_by_test_id("refreshed").get_attribute("datetime") != refreshed


def test_an_admin_acknowledges_an_alert(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser], quantflow: dict[str, Any]
) -> None:
    admin, user = people["admin"], stack.auth.sign_up(name="unlucky")
    # A burst of refusals by the agent: at least 10 recent calls, most failing, no baseline.
    for _ in range(12):
        answer = execute(stack, user, quantflow["id"], "portfolio_metrics", UNEVEN)
        assert answer.status_code == 200 and answer.json()["status"] == "failed", answer.text
    assert eventually(lambda: failures_counted(stack, admin, quantflow["id"], 12))

    page = browser.open(admin, path="/admin/alerts")
    page.get_by_role("button", name="Run the check now").click()
    expect(page.locator(".notice-ok")).to_contain_text("Checked")
    listed = page.get_by_role("list", name="Open alerts")
    opened = listed.locator(f'li[data-agent="{quantflow["id"]}"]')
    expect(opened.first).to_contain_text("Error rate")
    expect(opened.first).to_contain_text(quantflow["card"]["name"])
    assert_accessible(page)
    snap(page, "alerts")

    alert_id = opened.first.get_attribute("data-alert")
    opened.first.get_by_label("Note (optional)").fill("Known: the test sends uneven weights.")
    opened.first.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(f'li[data-alert="{alert_id}"]')).to_have_count(0)
    page.get_by_role("button", name="Acknowledged").click()
    acked_list = page.get_by_role("list", name="Acknowledged alerts")
    acked = acked_list.locator(f'li[data-alert="{alert_id}"]')
    expect(acked).to_contain_text("Known: the test sends uneven weights.")
    expect(acked.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_a_user_sees_their_own_usage_by_day_and_by_agent(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser], quantflow: dict[str, Any]
) -> None:
    user = stack.auth.sign_up(name="spender")
    for _ in range(2):
        answer = execute(stack, user, quantflow["id"], "black_scholes", OPTION)
        assert answer.json()["status"] == "succeeded", answer.text

    def costs() -> dict[str, Any] | None:
        body = call(stack, "GET", "/analytics/costs", user).json()
        return body if body.get("calls") == 2 else None

    assert eventually(costs), "the executions never reached analytics"
    page = browser.open(user, path="/my/usage")
    expect(page.locator('[data-total="calls"]')).to_have_text("2")
    by_day = series(page, "Executions by day")
    assert total(by_day, "Executions") == 2
    assert len(by_day["labels"]) >= 30  # every day of the period, quiet ones as zero
    expect(chart(page, "Executions by agent")).to_have_attribute(
        "data-series",
        json.dumps(
            {
                "labels": [quantflow["card"]["name"]],
                "series": [{"label": "Executions", "values": [2]}],
            },
            separators=(",", ":"),
        ),
    )
    assert total(series(page, "Cost by agent"), "Cost (USD)") > 0
    assert_accessible(page)
    snap(page, "usage")

    phone = browser.open(user, path="/my/usage", viewport=PHONE)
    expect(chart(phone, "Executions by agent")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
