"""Google's REST client libraries (requests-based) sent through an httpx client, for respx.

google-cloud-build's REST transport sends with a `google.auth.transport.requests.
AuthorizedSession`, which respx cannot see. `routed_through(http, loop)` is a stand-in for that
session class whose every request is sent on `http` (on the test's event loop), so respx serves
Google's APIs to the official client as it runs in production. Patched in by its public module
name only; production code sends with the library's own session.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from typing import Any

import httpx
import requests
import requests.adapters
from google.auth.transport.requests import AuthorizedSession
from requests.structures import CaseInsensitiveDict

_REQUEST_HEADERS_DROPPED = frozenset({"connection", "content-length", "host", "transfer-encoding"})
_RESPONSE_HEADERS_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding"})
DEFAULT_TIMEOUT_S = 30.0


class HttpxAdapter(requests.adapters.BaseAdapter):
    """A requests adapter that sends on an httpx client, on the given event loop."""

    def __init__(self, http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._http = http
        self._loop = loop

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        seconds = _seconds(timeout)
        headers = {
            k: v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if k.lower() not in _REQUEST_HEADERS_DROPPED
        }
        body = request.body.encode() if isinstance(request.body, str) else request.body

        async def send() -> httpx.Response:
            async with asyncio.timeout(seconds):
                return await self._http.request(
                    str(request.method), str(request.url), headers=headers, content=body
                )

        future = asyncio.run_coroutine_threadsafe(send(), self._loop)
        try:
            answer = future.result(timeout=seconds + 1)
        except (httpx.TimeoutException, TimeoutError) as exc:
            future.cancel()
            raise requests.Timeout(str(exc) or "timed out", request=request) from exc
        except httpx.HTTPError as exc:
            raise requests.ConnectionError(str(exc), request=request) from exc
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = CaseInsensitiveDict(
            {k: v for k, v in answer.headers.items() if k.lower() not in _RESPONSE_HEADERS_DROPPED}
        )
        response.raw = io.BytesIO(answer.content)
        response.url = str(request.url)
        response.request = request
        response.encoding = answer.encoding
        return response

    def close(self) -> None:
        """The httpx client belongs to the test."""


def routed_through(http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> type:
    """An AuthorizedSession class whose sessions send through `http`."""

    class RoutedSession(AuthorizedSession):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            adapter = HttpxAdapter(http, loop)
            self.mount("https://", adapter)
            self.mount("http://", adapter)

    return RoutedSession


def _seconds(timeout: float | tuple[float | None, float | None] | None) -> float:
    if isinstance(timeout, tuple):
        return max((float(t) for t in timeout if t is not None), default=DEFAULT_TIMEOUT_S)
    return float(timeout) if timeout else DEFAULT_TIMEOUT_S
