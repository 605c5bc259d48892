"""Trying a tool as a person does: find the agent, fill the form generated from the tool's input
schema, run it, and read the result; bad values are said next to their fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Stack
from tests.e2e.console.support import Browser, assert_accessible, go, snap
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration

# The README's example: an at-the-money call a year out, 5% rates, 20% volatility.
OPTION = {
    "Spot": "100",
    "Strike": "100",
    "Time To Expiry": "1",
    "Rate": "0.05",
    "Volatility": "0.2",
}


def test_another_user_runs_black_scholes_from_the_generated_form(
    browser: Browser, stack: Stack, people: dict[str, EmulatorUser], quantflow: dict[str, Any]
) -> None:
    name = quantflow["card"]["name"]
    page = browser.open(people["other"], path=f"/agents?q={name}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name).click()
    page.get_by_role("link", name="Try black_scholes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Try black_scholes")

    for label, value in OPTION.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Run black_scholes").click()

    result = page.get_by_role("table", name="Result")
    call_row = result.get_by_role("row").filter(has=page.get_by_role("rowheader", name="call"))
    expect(call_row).to_contain_text("10.4506")  # the Black-Scholes call price for these inputs
    expect(page.get_by_test_id("duration")).to_have_text(
        re.compile(r"^\d+(\.\d)? ms$|^\d+\.\d\d s$")
    )
    execution_id = page.locator("dd code").inner_text()
    assert len(execution_id) >= 16
    assert_accessible(page)
    snap(page, "try-a-tool")

    # The same execution, as the API recorded it for this user.
    page.get_by_text("The result as JSON").click()
    expect(page.get_by_label("Result as JSON").last).to_contain_text('"price": 10.45')


def test_bad_values_are_said_next_to_their_fields_and_nothing_runs(
    browser: Browser, people: dict[str, EmulatorUser], quantflow: dict[str, Any]
) -> None:
    page = browser.open(people["other"])
    go(page, f"/agents/{quantflow['id']}/tools/black_scholes")
    page.get_by_label("Spot").fill("-5")
    page.get_by_label("Volatility").fill("0.2")
    page.get_by_role("button", name="Run black_scholes").click()

    # Each message is tied to its field (aria-describedby), as a screen reader would read it.
    snap(page, "try-a-tool-errors")
    expect(page.get_by_label("Spot")).to_have_accessible_description(
        re.compile("less than 0.000001")
    )
    expect(page.get_by_label("Strike")).to_have_accessible_description(re.compile("Required"))
    expect(page.get_by_label("Volatility")).not_to_have_accessible_description(
        re.compile("Required|less than")
    )
    expect(page.get_by_role("table", name="Result")).to_have_count(0)
    assert_accessible(page)

    unknown = browser.open(people["other"])
    go(unknown, f"/agents/{quantflow['id']}/tools/no_such_tool")
    expect(unknown.get_by_role("alert")).to_contain_text("no tool named")
