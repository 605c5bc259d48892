"""The console's frame: it is served as Hosting serves it, signs people in and out, and every
page of the frame is accessible, on a phone's width too."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import expect

from tests.e2e.conftest import Stack
from tests.e2e.console.conftest import serve_console
from tests.e2e.console.support import PHONE, Browser, Console, assert_accessible, go, snap
from tests.support.firebase import EmulatorUser

pytestmark = pytest.mark.integration


def test_it_is_served_with_hosting_s_headers(console: Console) -> None:
    page = httpx.get(f"{console.url}/agents/some-deep-link")
    assert page.status_code == 200
    assert '<div id="root">' in page.text  # every unknown path is the app
    assert page.headers["cache-control"] == "no-cache"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert console.gateway in policy  # connect-src admits the local gateway
    assert page.headers["x-frame-options"] == "DENY"
    asset = next(part.split('"')[1] for part in page.text.split("src=")[1:] if "/assets/" in part)
    cached = httpx.get(f"{console.url}{asset}")
    assert cached.status_code == 200
    assert cached.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(f"{console.url}/assets/gone-1234.js").status_code == 404
    config = httpx.get(f"{console.url}/config.json").json()
    assert config["apiBase"] == console.gateway


def test_the_gateway_admits_the_console_s_origin_only(console: Console) -> None:
    ask = {"access-control-request-method": "GET"}
    mine = httpx.options(console.api("/registry/search"), headers=ask | {"origin": console.url})
    other = httpx.options(
        console.api("/registry/search"), headers=ask | {"origin": "https://evil.example"}
    )
    assert mine.headers.get("access-control-allow-origin") == console.url
    assert "access-control-allow-origin" not in other.headers


def test_google_sign_in_starts_google_s_popup_flow(browser: Browser) -> None:
    """The button reaches for Google's popup machinery (the SDK's popup resolver is wired: without
    it the SDK refuses at once with auth/argument-error). This network has no apis.google.com, so
    here the flow ends in words instead of a popup; the rest of it is Google's and the SDK's."""
    page = browser.open(path="/signin")
    with page.expect_request(re.compile(r"^https://apis\.google\.com/js/api\.js")):
        page.get_by_role("button", name="Continue with Google").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in failed")
    expect(alert).not_to_contain_text("argument-error")


def test_sign_up_sign_out_and_sign_in(browser: Browser, stack: Stack) -> None:
    page = browser.open(path="/signup")
    email = f"newcomer-{id(page)}@example.com"
    page.get_by_label("Name").fill("New Comer")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name="New Comer")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The ID token stays in the SDK's memory: nothing in web storage holds it.
    stored = page.evaluate(
        "JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})"
    )
    assert "eyJ" not in stored


def test_the_profile_and_pages_for_users_only(
    browser: Browser, people: dict[str, EmulatorUser]
) -> None:
    nowhere = browser.open(path="/no/such/page")
    expect(nowhere.get_by_role("heading", name="Page not found")).to_be_visible()
    anonymous = browser.open(path="/my/agents")
    expect(anonymous).to_have_url(f"{browser.console.url}/signin")
    assert_accessible(anonymous)
    snap(anonymous, "sign-in")

    page = browser.open(people["other"], path="/account")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    page.get_by_label("Display name").fill("Someone Else")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert_accessible(page)
    go(page, "/admin/queue")
    expect(page.get_by_role("alert")).to_contain_text("platform admins")


def test_on_a_phone_the_menu_folds(browser: Browser, people: dict[str, EmulatorUser]) -> None:
    page = browser.open(people["other"], viewport=PHONE, path="/account")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="Directory")).to_be_visible()
    assert_accessible(page)
    snap(page, "phone-menu")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"


def test_a_429_shows_its_wait(stack: Stack, chromium: PlaywrightBrowser) -> None:
    user = stack.auth.sign_up(name="hasty")
    with serve_console(stack, rate_limits={"auth": "2/minute"}) as console:
        driver = Browser(chromium, console)
        try:
            page = driver.open(user, path="/account")  # the profile read is the first call
            save = page.get_by_role("button", name="Save")
            page.get_by_label("Display name").fill("Hasty")
            save.click()  # the second
            expect(page.get_by_role("status")).to_have_text("Saved.")
            save.click()  # the third, over the limit
            alert = page.get_by_role("alert")
            expect(alert).to_contain_text(re.compile(r"Please wait \d+ seconds? and try again"))
            wait = int(alert.locator("[data-retry-after]").get_attribute("data-retry-after") or 0)
            assert 0 < wait <= 60
        finally:
            driver.close()
