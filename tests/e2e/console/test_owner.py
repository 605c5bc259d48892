"""The owner's pages as an owner uses them: register an agent (a form, card JSON, an A2A card),
follow its scan without reloading, edit and delete it, keep provider keys shown by their last
four characters only; another user cannot open the owner's pending agent."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Stack
from tests.e2e.console.support import PHONE, Browser, assert_accessible, go, sign_up, snap
from tests.e2e.test_execute import call
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def fill_form(page: Page, name: str, tool: str = "black_scholes") -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description", exact=True).fill("Prices European options")
    page.get_by_label("Tags").fill("finance, options")
    page.get_by_label("Endpoint URL").fill("https://quantflow.example.com")
    page.get_by_label("Tool 1 name").fill(tool)
    page.get_by_label("Tool 1 description").fill("Price a European option")
    page.get_by_label("Tool 1 input schema (JSON Schema)").fill(
        json.dumps({"type": "object", "properties": {"spot": {"type": "number"}}})
    )


def agent_id_of(page: Page, browser: Browser) -> str:
    expect(page).to_have_url(re.compile(r"/my/agents/[A-Za-z0-9_-]{10,}$"))
    return page.url.rsplit("/", 1)[1]


def test_a_newcomer_registers_from_the_form_and_sees_the_scan_arrive(
    browser: Browser, agent_sources: str
) -> None:
    page, _ = sign_up(browser)
    go(page, "/my/agents")
    expect(page.get_by_role("heading", name="My agents")).to_be_visible()
    expect(page.get_by_text("You have no agents yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Register an agent").click()
    expect(page.get_by_role("heading", name="Register an agent")).to_be_visible()
    name = f"Form{secrets.token_hex(3)}"
    fill_form(page, name)
    page.get_by_label("Metadata (optional JSON object)").fill(
        json.dumps({"source": f"{agent_sources}/genesis"})
    )
    scans: list[int] = []
    page.on(
        "response",
        lambda r: scans.append(r.status) if re.search(r"/vetting/[^/]+/scan$", r.url) else None,
    )
    assert_accessible(page)
    snap(page, "register")
    page.get_by_role("button", name="Register", exact=True).click()

    agent_id_of(page, browser)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator("h1 [data-status]")).to_have_text("Pending vetting")
    # The receipt is written by the scan the registration queued; the page polls for it.
    expect(page.get_by_text("The scan is queued or running.")).to_be_visible()
    receipt = page.get_by_role("region", name="Scan receipt")
    expect(receipt).to_be_visible(timeout=120_000)
    expect(receipt).to_contain_text(re.compile(r"Verdict: (clean|findings|inconclusive)"))
    expect(receipt.get_by_role("table")).to_contain_text("semgrep")
    # No receipt at first (the scan was still queued), then the poll found it: no reload.
    assert scans[0] == 404 and scans[-1] == 200, scans
    assert_accessible(page)
    snap(page, "my-agent")

    go(page, "/my/agents")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.locator("[data-status]")).to_have_text("Pending vetting")
    snap(page, "my-agents")


A2A = {
    "protocolVersion": "0.3.0",
    "name": "",
    "description": "Forecasts for any city",
    "version": "2.0.0",
    "url": "https://weather.example.com",
    "provider": {"organization": "Acme"},
    "capabilities": {"streaming": False},
    "defaultInputModes": ["text/plain"],
    "skills": [{"id": "forecast", "name": "Forecast", "description": "Three days ahead"}],
}


def test_pasted_card_json_and_an_a2a_card_each_register_an_agent(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    page = browser.open(people["owner"], path="/my/agents/new", viewport=PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the form scrolls sideways on a phone: {width}px"
    page.get_by_role("tab", name="Paste card JSON").click()
    pasted = f"Pasted{secrets.token_hex(3)}"
    page.get_by_label("Agent card (JSON)").fill(json.dumps(card(pasted)))
    assert_accessible(page)
    page.get_by_role("button", name="Register this card").click()
    first = agent_id_of(page, browser)
    expect(page.get_by_role("heading", level=1)).to_contain_text(pasted)

    go(page, "/my/agents/new")
    page.get_by_role("tab", name="Import an A2A card").click()
    field = page.get_by_label("A2A agent card (JSON)")
    field.fill("{not json")
    page.get_by_role("button", name="Import and register").click()
    expect(page.locator("#a2a-json-error")).to_contain_text("Not valid JSON")
    imported = f"Weather{secrets.token_hex(3)}"
    field.fill(json.dumps(A2A | {"name": imported}))
    assert_accessible(page)
    page.get_by_role("button", name="Import and register").click()
    second = agent_id_of(page, browser)
    expect(page.get_by_role("heading", level=1)).to_contain_text(imported)
    expect(page.locator("dl.facts")).to_contain_text("forecast")

    stored = call(stack, "GET", f"/agents/{second}", people["owner"]).json()
    assert stored["card"]["tools"][0]["input_schema"] == {"type": "object"}
    assert stored["card"]["deployment"] == {"url": "https://weather.example.com"}
    assert stored["card"]["metadata"]["a2a"]["protocolVersion"] == "0.3.0"
    assert first != second


def test_a_422_shows_beside_the_field_it_names(
    browser: Browser, people: dict[str, EmulatorUser]
) -> None:
    page = browser.open(people["owner"], path="/my/agents/new")
    fill_form(page, f"Bad{secrets.token_hex(3)}", tool="9 bad name")
    page.get_by_role("button", name="Register", exact=True).click()
    name = page.get_by_label("Tool 1 name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tool-0-name-error")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Some fields need attention")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/my/agents/new$"))  # nothing was registered

    # A schema the registry refuses (not an object schema), beside the schema's field.
    name.fill("black_scholes")
    page.get_by_label("Tool 1 input schema (JSON Schema)").fill('{"type": "string"}')
    page.get_by_role("button", name="Register", exact=True).click()
    schema = page.get_by_label("Tool 1 input schema (JSON Schema)")
    expect(schema).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tool-0-input-error")).to_be_visible()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    snap(page, "register-422")


def test_edit_resubmit_and_delete_and_no_one_else_gets_in(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    name = f"Mine{secrets.token_hex(3)}"
    created = call(stack, "POST", "/agents/register", people["owner"], json=card(name))
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]

    other = browser.open(people["other"], path=f"/my/agents/{agent_id}")
    expect(other.get_by_role("alert")).to_contain_text("There is no agent of yours")
    assert_accessible(other)
    snap(other, "my-agent-not-yours")

    page = browser.open(people["owner"], path=f"/my/agents/{agent_id}")
    page.get_by_role("button", name="Edit the card").click()
    page.get_by_label("Description", exact=True).fill("Prices options, now faster")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    seen = call(stack, "GET", f"/agents/{agent_id}", people["owner"]).json()
    assert seen["card"]["description"] == "Prices options, now faster"

    # A rejected agent: the reason shows, and saving a change resubmits it.
    stack.set_status(agent_id, "rejected")
    go(page, "/my/agents")
    page.get_by_role("link", name=name).click()
    expect(page.locator("h1 [data-status]")).to_have_text("Rejected")
    expect(page.get_by_test_id("status-reason")).to_have_text("e2e")
    snap(page, "my-agent-rejected")
    page.get_by_label("Version").fill("1.0.1")
    page.get_by_role("button", name="Save and resubmit for vetting").click()
    expect(page.get_by_role("status").filter(has_text="pending vetting again")).to_be_visible()
    expect(page.locator("h1 [data-status]")).to_have_text("Pending vetting")

    page.get_by_role("button", name="Delete this agent").click()
    confirm = page.get_by_role("alertdialog", name=f"Delete {name}?")
    expect(confirm).to_be_focused()
    assert_accessible(page)
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_be_hidden()
    assert call(stack, "GET", f"/agents/{agent_id}", people["owner"]).status_code == 200
    page.get_by_role("button", name="Delete this agent").click()
    page.get_by_role("button", name=f"Yes, delete {name}").click()
    expect(page).to_have_url(f"{browser.console.url}/my/agents")
    expect(page.get_by_role("status").filter(has_text=f"{name} was deleted.")).to_be_visible()
    assert call(stack, "GET", f"/agents/{agent_id}", people["owner"]).status_code == 404


def test_provider_keys_show_their_last_four_only(browser: Browser) -> None:
    page, _ = sign_up(browser)
    go(page, "/my/keys")
    expect(page.get_by_text("No keys stored.")).to_be_visible()
    secret = f"sk-test-{secrets.token_hex(12)}WXYZ"
    page.get_by_label("Provider").select_option("groq")
    secret_field = page.get_by_label("Secret key")
    expect(secret_field).to_have_attribute("type", "password")
    secret_field.fill(secret)
    page.get_by_role("button", name="Save key").click()
    expect(page.get_by_role("status")).to_have_text("Groq key saved.")
    stored = page.get_by_role("list", name="Stored keys").get_by_role("listitem")
    expect(stored).to_have_count(1)
    expect(stored.first).to_contain_text("••••••••WXYZ")
    expect(secret_field).to_have_value("")
    assert secret not in page.content()
    assert secret[:-4] not in page.evaluate("document.body.innerText")
    assert_accessible(page)
    snap(page, "keys")

    stored.first.get_by_role("button", name="Delete the Groq key").click()
    stored.first.get_by_role("button", name="Yes, delete the Groq key").click()
    expect(page.get_by_text("No keys stored.")).to_be_visible()
