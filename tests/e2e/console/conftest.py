"""The console in headless Chromium against the real fleet on the emulators.

Fixtures: `console` (the built console and a gateway whose CORS admits it), `browser` (fresh
contexts per test; a test fails on any uncaught error in a page), `quantflow` (an active
QuantFlow agent the owner registered, running on the local runtime), `agent_sources` (the
agents' sources where vetting's scans read them).
`serve_console(stack, **gateway_settings)` serves another console, e.g. on a gateway with
tight rate limits. See `support.py` for signing in, axe and screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import sync_playwright

from agora_devstack.console import console_config, create_console_app
from tests.e2e.conftest import PROJECT, Stack
from tests.e2e.console.support import CHROMIUM, CHROMIUM_ARGS, Browser, Console, ensure_built
from tests.e2e.test_execute import activate_quantflow
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration


@contextmanager
def serve_console(stack: Stack, **gateway_settings: Any) -> Iterator[Console]:
    """A console and its own gateway (CORS for the console's origin only)."""
    dist = ensure_built()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with ExitStack() as running:
        gateway = running.enter_context(
            stack.serve_gateway(cors_origins=(origin,), **gateway_settings)
        )
        auth_host = stack.emulator_env["FIREBASE_AUTH_EMULATOR_HOST"]
        config = console_config(gateway, auth_host, PROJECT, dashboard_refresh_ms=1500)
        running.enter_context(serving(create_console_app(config, dist=dist), port))
        yield Console(url=origin, gateway=gateway)


@pytest.fixture(scope="package")
def console(stack: Stack) -> Iterator[Console]:
    with serve_console(stack) as served:
        yield served


# Package scope, not session: Playwright's sync API keeps an event loop running
# in the main thread while it is open, and every later test that calls
# asyncio.run() would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="package")
def chromium() -> Iterator[PlaywrightBrowser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: PlaywrightBrowser, console: Console) -> Iterator[Browser]:
    driver = Browser(chromium, console)
    yield driver
    driver.close()
    assert not driver.console_errors, f"uncaught errors in the page: {driver.console_errors}"


@pytest.fixture(scope="package")
def quantflow(stack: Stack, people: dict[str, EmulatorUser]) -> dict[str, Any]:
    """QuantFlow, registered by the owner, vetted and deployed by the local runtime: active."""
    return activate_quantflow(stack, people["owner"])


@pytest.fixture(scope="package")
def agent_sources(stack: Stack) -> str:
    """Genesis and QuantFlow where vetting's static checks read sources (`agents/<name>`), so
    their scans run every check, as in production."""
    for name in ("genesis", "quantflow"):
        stack.place_source(name)
    return "agents"
