"""The whole journey in the console, in one piece: a newcomer signs up and registers QuantFlow
from the form; its scan's receipt arrives without a reload; an admin approves it from the queue
and it is deployed; the owner sees it active; another user finds it and runs Black-Scholes from
the generated form, and gets the README's price."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from agora_devstack.agents import local_agent, registration_card
from tests.e2e.console.support import Browser, go, sign_up
from tests.e2e.console.test_try_tool import OPTION
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def quantflow_card() -> dict[str, Any]:
    return registration_card(local_agent("quantflow"), "quantflow")


@pytest.mark.timeout(420)  # a full scan, an approval that deploys, and a first execution
def test_register_scan_approve_and_run_in_the_console(
    browser: Browser, people: dict[str, EmulatorUser], agent_sources: str
) -> None:
    card = quantflow_card()
    black_scholes = next(tool for tool in card["tools"] if tool["name"] == "black_scholes")
    name = f"QuantFlow {secrets.token_hex(3)}"

    owner, _ = sign_up(browser, name="Quinn Owner")
    go(owner, "/my/agents/new")
    owner.get_by_label("Name", exact=True).fill(name)
    owner.get_by_label("Description", exact=True).fill(card["description"])
    owner.get_by_label("Tags").fill("finance, options")
    owner.get_by_label("Container image").fill(card["deployment"]["image"])
    owner.get_by_label("Tool 1 name").fill("black_scholes")
    owner.get_by_label("Tool 1 description").fill(black_scholes["description"])
    owner.get_by_label("Tool 1 input schema (JSON Schema)").fill(
        json.dumps(black_scholes["input_schema"])
    )
    owner.get_by_label("Metadata (optional JSON object)").fill(
        json.dumps({"source": f"{agent_sources}/quantflow"})
    )
    owner.get_by_role("button", name="Register", exact=True).click()
    expect(owner).to_have_url(re.compile(r"/my/agents/[A-Za-z0-9_-]{10,}$"))
    agent_id = owner.url.rsplit("/", 1)[1]
    expect(owner.locator("h1 [data-status]")).to_have_text("Pending vetting")
    # The receipt arrives while the page stays open: it polls, nobody reloads.
    expect(owner.get_by_text("Verdict:")).to_be_visible(timeout=180_000)

    admin = browser.open(people["admin"], path="/admin/queue")
    entry = admin.locator(f'li[data-agent="{agent_id}"]')
    expect(entry.get_by_role("heading", level=2)).to_contain_text(name)
    entry.get_by_label("Reason (required)").fill("Read the receipt; the tools do what they say.")
    expect(entry.locator("[data-verdict]")).to_have_text("clean")  # every check, on its source
    entry.get_by_role("button", name="Approve", exact=True).click()
    expect(admin.locator(".notice-ok")).to_contain_text("approved and deployed", timeout=120_000)

    go(owner, f"/agents/{agent_id}")
    expect(owner.get_by_role("heading", level=1).locator("[data-status]")).to_have_text("Active")

    other = browser.open(people["other"], path=f"/agents?q={name.split()[0]}")
    other.get_by_role("link", name=name).click()
    other.get_by_role("link", name="Try black_scholes").click()
    for label, value in OPTION.items():
        other.get_by_label(label).fill(value)
    other.get_by_role("button", name="Run black_scholes").click()
    call_row = other.get_by_role("table", name="Result").get_by_role(
        "row", name=re.compile("^call")
    )
    expect(call_row).to_contain_text("10.4506")
