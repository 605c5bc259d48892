"""Access tokens for Google APIs from the default credentials, refreshed off the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Refresh this long before expiry, so no call leaves with a token about to die.
REFRESH_MARGIN_S = 300.0

AccessTokenProvider = Callable[[], Awaitable[str]]


class RefreshableCredentials(Protocol):
    """The part of google.auth's Credentials used here."""

    token: str | None
    expiry: datetime | None

    def refresh(self, request: Any) -> None: ...


class GoogleAccessTokens:
    """An AccessTokenProvider: google-auth's default credentials, one refresh at a time."""

    def __init__(
        self,
        credentials: RefreshableCredentials | None = None,
        *,
        scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,),
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._credentials = credentials
        self._scopes = list(scopes)
        self._margin_s = margin_s
        self._cached: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        if (token := self._fresh()) is not None:
            return token
        async with self._lock:
            if (token := self._fresh()) is None:
                # google-auth's refresh is blocking HTTP (the metadata server on Cloud Run).
                self._cached = await asyncio.to_thread(self._refresh)
                token = self._cached[0]
            return token

    def _fresh(self) -> str | None:
        if self._cached is None or self._cached[1] - self._margin_s <= time.time():
            return None
        return self._cached[0]

    def _refresh(self) -> tuple[str, float]:
        import google.auth
        import google.auth.transport.requests

        if self._credentials is None:
            self._credentials, _ = google.auth.default(scopes=self._scopes)
        credentials = self._credentials
        assert credentials is not None
        credentials.refresh(google.auth.transport.requests.Request())
        if not credentials.token:
            raise RuntimeError("google-auth returned no access token")
        # google-auth's expiry is a naive UTC datetime; None means "does not expire".
        expiry = credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry else float("inf")
        return credentials.token, expires_at
