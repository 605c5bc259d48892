"""The agent directory as people use it: anyone finds active agents by name, tag or tool; an
owner also sees their own agents in every status, with a badge."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Stack
from tests.e2e.console.support import Browser, assert_accessible, go, snap
from tests.e2e.test_execute import call
from tests.support.factories import card
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def register(stack: Stack, owner: EmulatorUser, name: str, tag: str) -> str:
    answer = call(stack, "POST", "/agents/register", owner, json=card(name, tags=[tag]))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_anyone_finds_active_agents_and_owners_see_their_own(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    stem, tag = f"Dir{secrets.token_hex(3)}", f"t{secrets.token_hex(3)}"
    active = register(stack, people["owner"], f"{stem} Pricer", tag)
    stack.set_status(active, "vetted", "active")
    register(stack, people["owner"], f"{stem} Draft", tag)  # pending vetting

    page = browser.open(path="/agents")
    page.get_by_label("Name starts with").fill(stem)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{browser.console.url}/agents?q={stem}")
    cards = page.get_by_role("list", name="Agents").get_by_role("listitem")
    expect(cards).to_have_count(1)  # the pending agent is the owner's and admins' only
    expect(cards.first).to_contain_text(f"{stem} Pricer")
    expect(cards.first).to_contain_text("Tools: black_scholes")
    assert_accessible(page)
    snap(page, "directory")

    by_tag = browser.open(path=f"/agents?tag={tag}&tool=black_scholes")
    expect(by_tag.get_by_role("list", name="Agents").get_by_role("listitem")).to_have_count(1)

    owner = browser.open(people["owner"])
    go(owner, f"/agents?q={stem}")
    owner.get_by_label("Only mine (every status)").check()
    owner.get_by_role("button", name="Search").click()
    mine = owner.get_by_role("list", name="Agents").get_by_role("listitem")
    expect(mine).to_have_count(2)
    expect(mine.filter(has_text="Draft").locator("[data-status]")).to_have_text("Pending vetting")
    expect(mine.filter(has_text="Pricer").locator("[data-status]")).to_have_text("Active")
    assert_accessible(owner)

    nothing = browser.open(path=f"/agents?q=Nothing{secrets.token_hex(4)}")
    expect(nothing.get_by_text("No agents match this search.")).to_be_visible()


def test_an_agent_s_page_shows_its_card_tools_and_manifest(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    stem, tag = f"Card{secrets.token_hex(3)}", f"t{secrets.token_hex(3)}"
    active = register(stack, people["owner"], f"{stem} Live", tag)
    stack.set_status(active, "vetted", "active")
    pending = register(stack, people["owner"], f"{stem} Hidden", tag)

    page = browser.open(path=f"/agents?q={stem}")
    page.get_by_role("link", name=f"{stem} Live").click()
    expect(page).to_have_url(f"{browser.console.url}/agents/{active}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{stem} Live")
    tools = page.get_by_role("list", name="Tools").get_by_role("listitem")
    expect(tools).to_have_count(1)
    tools.first.get_by_text("Input schema").click()
    expect(page.get_by_label("Input schema of black_scholes")).to_contain_text('"spot"')
    manifest = page.get_by_role("link", name="The agent's manifest (its card as JSON)")
    href = manifest.get_attribute("href") or ""
    assert href == f"{browser.console.gateway}/api/v1/agents/{active}/manifest"
    assert_accessible(page)
    snap(page, "agent")

    # A pending agent is its owner's: anyone else is told it is not there.
    stranger = browser.open(people["other"])
    go(stranger, f"/agents/{pending}")
    expect(stranger.get_by_role("alert")).to_contain_text("Not found")
    owner = browser.open(people["owner"])
    go(owner, f"/agents/{pending}")
    expect(owner.get_by_role("heading", level=1)).to_contain_text("Pending vetting")
    expect(owner.get_by_role("heading", name="Health")).to_be_visible()
