"""The Tool Factory and the catalog as people use them: a user fills the specification, follows
the job to ready, previews the highlighted files, downloads the package and submits it; anyone
finds an active agent's tool in the catalog with its versions."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.support import Browser, assert_accessible, go, snap
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)  # the job formats, scans and tests the package in vetting's sandbox
def test_a_user_generates_previews_downloads_and_submits_a_tool(
    browser: Browser, people: dict[str, EmulatorUser]
) -> None:
    page = browser.open(people["other"])
    go(page, "/factory")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tool Factory")
    name = f"Word Counter {secrets.token_hex(3)}"
    page.get_by_label("Name", exact=True).fill(name)

    # A typo in a schema is said at its field before anything is sent...
    page.get_by_label("Input schema (JSON)").fill("{ not json")
    page.get_by_role("button", name="Generate the tool").click()
    expect(page.get_by_label("Input schema (JSON)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#spec-input_schema-problems")).to_contain_text("is not valid JSON")

    # ...and the API's refusal of a schema lands on the same field, with the path inside it.
    page.get_by_label("Input schema (JSON)").fill(
        '{"type": "object", "properties": {"text": {"type": "strng"}}}'
    )
    page.get_by_role("button", name="Generate the tool").click()
    expect(page.locator("#spec-input_schema-problems")).to_contain_text("properties.text")
    assert_accessible(page)
    snap(page, "factory")

    page.get_by_label("Input schema (JSON)").fill(
        '{"type": "object", "properties": {"text": {"type": "string", "maxLength": 1000}},'
        ' "required": ["text"]}'
    )
    page.get_by_role("button", name="Generate the tool").click()
    expect(page).to_have_url(re.compile(r".*/factory/jobs/[^/]+$"))
    expect(page.get_by_text("Ready: every check passed.")).to_be_visible(timeout=240_000)

    files = page.get_by_role("list", name="Generated files")
    expect(files.get_by_role("button", name="agent-card.json")).to_be_visible()
    code = page.get_by_label(re.compile(r"^The file src/.*/agent\.py$"))  # shown first
    expect(code).to_contain_text("def ")
    expect(code.locator(".token.keyword").first).to_be_visible()  # highlighted, not plain text
    files.get_by_role("button", name="Dockerfile").click()
    expect(page.get_by_label("The file Dockerfile")).to_contain_text("FROM")
    assert_accessible(page)
    snap(page, "factory-job")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the package (.tar.gz)").click()
    assert download.value.suggested_filename.endswith(".tar.gz")
    with open(download.value.path(), "rb") as archive:
        assert archive.read(2) == b"\x1f\x8b"  # gzip

    page.get_by_role("button", name="Submit for vetting").click()
    expect(page.get_by_text("Submitted as a new agent")).to_be_visible()
    expect(page.locator(".notice [data-status]")).to_have_text("Pending vetting")
    page.get_by_role("link", name="Follow it in My agents").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_anyone_finds_an_active_tool_and_its_versions_in_the_catalog(
    browser: Browser, quantflow: dict[str, Any]
) -> None:
    page = browser.open(path="/tools?q=black")
    tools = page.get_by_role("list", name="Tools").get_by_role("listitem")
    mine = tools.filter(has_text=quantflow["card"]["name"])
    expect(mine).to_have_count(1)
    assert_accessible(page)
    mine.get_by_role("link", name="black_scholes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("black_scholes")
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row")).to_have_count(2)  # the header and version 1
    expect(versions).to_contain_text("Latest")
    expect(page.get_by_label("Input schema of black_scholes")).to_contain_text('"spot"')
    assert_accessible(page)
    snap(page, "tool")
