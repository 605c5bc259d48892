"""The executor's calls to Cloud Build and Artifact Registry for one image: each with a fresh
access token, bounded in time, without retries, and every failure a `DeployFailed` whose
upstream message is scrubbed of the agent's environment values.

The Cloud Build client's REST transport sends from a worker thread; the token travels to it in
a context variable (`CallCredentials` reads it at the moment of sending), never stored on a
shared object nor passed as call metadata, which the client logs at DEBUG.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import requests
from google.api_core.exceptions import GoogleAPICallError
from google.auth import credentials as google_credentials

from agora_executor.runtime.base import DeployFailed, scrub
from agora_executor.runtime.google_auth import AccessTokenProvider

MAX_UPSTREAM_MESSAGE = 300

T = TypeVar("T")


@dataclass(frozen=True)
class _Call:
    """What a Cloud Build call in a worker thread needs from the coroutine that made it."""

    token: str


_CALL: ContextVar[_Call] = ContextVar("agora_cloud_build_call")


class Calls:
    """Authorized, bounded calls for one image; upstream messages scrubbed of the agent's env."""

    def __init__(
        self,
        *,
        tokens: AccessTokenProvider,
        http: httpx.AsyncClient,
        timeout_s: float,
        image: str,
        secrets: Collection[str],
    ) -> None:
        self.tokens = tokens
        self.http = http
        self.timeout_s = timeout_s
        self.image = image
        self.secrets = list(secrets)

    def safe(self, what: str, upstream: str) -> str:
        upstream = scrub(str(upstream), self.secrets).strip()[:MAX_UPSTREAM_MESSAGE]
        return f"{what}: {upstream}" if upstream else what

    async def _token(self, failed: str) -> str:
        try:
            return await self.tokens()
        except Exception as exc:  # google-auth raises several unrelated types
            raise DeployFailed(f"{failed}: no Google credentials") from exc

    async def cloud_build(self, method: Callable[..., T], what: str, request: Any) -> T:
        """`method(request)` of the Cloud Build client, in a worker thread, with no retries."""
        failed = f"Could not {what} of {self.image}"
        timeout = self.timeout_s
        call = _Call(await self._token(failed))
        reset = _CALL.set(call)
        try:
            # to_thread runs the call in a copy of this context: the thread sees `call`.
            async with asyncio.timeout(timeout * 2):
                return await asyncio.to_thread(method, request=request, retry=None, timeout=timeout)
        except (requests.Timeout, TimeoutError) as exc:
            raise DeployFailed(f"{failed}: the Cloud Build API did not answer in time") from exc
        except requests.RequestException as exc:
            raise DeployFailed(f"{failed}: the Cloud Build API is unreachable") from exc
        except GoogleAPICallError as exc:
            status = f"{failed}: HTTP {exc.code}" if exc.code else failed
            reason = getattr(exc.grpc_status_code, "name", "") or ""
            upstream = f"{reason}: {exc.message}".strip(": ")
            raise DeployFailed(self.safe(status, upstream)) from exc
        finally:
            _CALL.reset(reset)

    async def artifact_registry(self, url: str) -> bool:
        """GET `url` on the Artifact Registry API: True for 200, False for 404."""
        failed = f"Could not look up {self.image} in Artifact Registry"
        token = await self._token(failed)
        try:
            response = await self.http.get(
                url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout_s,
            )
        except httpx.TimeoutException as exc:
            raise DeployFailed(f"{failed}: the API did not answer in time") from exc
        except httpx.TransportError as exc:
            raise DeployFailed(f"{failed}: the API is unreachable") from exc
        if response.status_code == httpx.codes.NOT_FOUND:
            return False
        if response.is_error:
            raise DeployFailed(
                self.safe(f"{failed}: HTTP {response.status_code}", api_error(response))
            )
        return True


def api_error(response: httpx.Response) -> str:
    """`STATUS: message` from a Google API error body, or "" when there is none."""
    try:
        error = response.json().get("error", {})
        return f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return ""


class CallCredentials(google_credentials.Credentials):
    """The access token of the call under way (see `_CALL`); nothing is kept on the object."""

    def refresh(self, request: Any) -> None:
        """Nothing to refresh here: each call brings a fresh token from the provider."""

    def before_request(self, request: Any, method: str, url: str, headers: Any) -> None:
        call = _CALL.get(None)
        if call is None:
            raise RuntimeError("a Cloud Build call outside Calls.cloud_build")
        headers["authorization"] = f"Bearer {call.token}"
