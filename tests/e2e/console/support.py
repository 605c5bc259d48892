"""Driving the console in headless Chromium, as a person does.

- `Console`: one served console (web/dist + its /config.json) and the gateway it calls.
- `Browser.open(user=None, path=...)`: a fresh browser context on the console, signed in through
  the sign-in page when a user is given (the Auth emulator's password for test accounts).
- `go(page, path)`: in-app navigation. The session lives in the SDK's memory only, so a reload
  (`page.goto`) signs the user out, as it would a person: signed-in tests move with `go` or
  by clicking links.
- `assert_accessible(page)`: axe-core finds no serious or critical violation, in the light and
  the dark theme.
- `snap(page, name)`: a full-page screenshot under `.local/screenshots/` (and under
  `$AGORA_SCREENSHOTS`, e.g. `docs/images`, when that is set).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import BrowserContext, Page, expect

from agora_devstack.emulators import repo_root
from tests.support.firebase import PASSWORD, EmulatorUser

WEB = repo_root() / "web"
CHROMIUM = os.environ.get("AGORA_CHROMIUM", "/usr/bin/chromium")
# Quiet, offline-friendly Chromium: no background traffic into the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = repo_root() / ".local" / "screenshots"
PHONE = {"width": 375, "height": 780}
DESKTOP = {"width": 1280, "height": 860}


@dataclass
class Console:
    url: str
    gateway: str

    def api(self, path: str) -> str:
        return f"{self.gateway}/api/v1{path}"


def ensure_built() -> Path:
    """web/dist, built again when a source is newer than it (`make test` builds it first)."""
    index = WEB / "dist" / "index.html"
    sources = [p for p in (WEB / "src").rglob("*") if p.is_file()] + [WEB / "index.html"]
    newest = max(p.stat().st_mtime for p in sources)
    if not index.is_file() or index.stat().st_mtime < newest:
        subprocess.run(["npm", "--prefix", str(WEB), "run", "--silent", "build"], check=True)
    return index.parent


@dataclass
class Browser:
    """Contexts on one console; each test's are closed when it ends."""

    chromium: PlaywrightBrowser
    console: Console
    contexts: list[BrowserContext] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def open(
        self,
        user: EmulatorUser | None = None,
        *,
        path: str = "/",
        viewport: dict[str, int] | None = None,
    ) -> Page:
        context = self.chromium.new_context(
            base_url=self.console.url, viewport=viewport or DESKTOP, color_scheme="light"
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        if user is None:
            page.goto(path)
            return page
        sign_in(page, user.email)
        if path != "/":
            go(page, path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def go(page: Page, path: str) -> None:
    """Navigate inside the app (as a link does), keeping the in-memory session."""
    script = "p => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate')); }"
    page.evaluate(script, path)
    page.wait_for_url(f"**{path.split('?')[0]}*")


def sign_up(browser: Browser, name: str = "New Owner") -> tuple[Page, str]:
    """A newcomer signs up through the console, as a person does: the page and their email."""
    page = browser.open(path="/signup")
    email = f"newcomer-{secrets.token_hex(4)}@example.com"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name=name)).to_be_visible()
    return page, email


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in page, as a person does; waits until the session shows."""
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations on the page as it is now, of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [v for v in results if v.get("impact") in impacts]


def assert_accessible(page: Page) -> None:
    """No serious or critical axe violation, in the light theme and in the dark one."""
    found: dict[str, Any] = {}
    for theme in ("light", "dark"):
        page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        for violation in axe_violations(page):
            targets = [node["target"] for node in violation["nodes"][:5]]
            found[f"{theme}: {violation['id']}"] = {"help": violation["help"], "nodes": targets}
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    assert not found, f"{page.url}: " + json.dumps(found, indent=1)


def snap(page: Page, name: str) -> Path:
    """A full-page screenshot named `name`.png, to look at (and for the docs when asked)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    if target := os.environ.get("AGORA_SCREENSHOTS"):
        folder = Path(target) if Path(target).is_absolute() else repo_root() / target
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / f"{name}.png", full_page=True)
    return path
