"""The access-token provider: cached until near expiry, refreshed once for concurrent callers."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from agora_executor.runtime.google_auth import GoogleAccessTokens


class FakeCredentials:
    """google-auth's Credentials as far as the provider uses them."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self.token: str | None = None
        self.expiry: datetime | None = None
        self.refreshes = 0
        self.threads: list[threading.Thread] = []

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.threads.append(threading.current_thread())
        self.token = f"token-{self.refreshes}"
        # google-auth keeps a naive UTC expiry.
        self.expiry = (datetime.now(UTC) + self.lifetime).replace(tzinfo=None)


async def test_a_token_is_reused_until_near_expiry() -> None:
    credentials = FakeCredentials(timedelta(hours=1))
    tokens = GoogleAccessTokens(credentials)
    assert await tokens() == "token-1"
    assert await tokens() == "token-1"
    assert credentials.refreshes == 1
    assert credentials.threads[0] is not threading.current_thread()  # off the event loop


async def test_a_token_inside_the_margin_is_refreshed() -> None:
    credentials = FakeCredentials(timedelta(minutes=2))
    tokens = GoogleAccessTokens(credentials, margin_s=300)
    assert await tokens() == "token-1"
    assert await tokens() == "token-2"


async def test_concurrent_callers_share_one_refresh() -> None:
    credentials = FakeCredentials(timedelta(hours=1))
    tokens = GoogleAccessTokens(credentials)
    assert set(await asyncio.gather(*(tokens() for _ in range(10)))) == {"token-1"}
    assert credentials.refreshes == 1
