"""Calling a served service the way the gateway (or another service) would."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import httpx

from agora_common.iam.tokens import DevSigner
from agora_common.identity import identity_headers
from agora_common.models import UserIdentity
from tests.support.factories import signer_for

ANONYMOUS = UserIdentity()


@cache
def _signer(key_file: Path, service: str, project: str) -> DevSigner:
    return signer_for(key_file, service, project)


class CallsAsService:
    """Mixed into a test's handle on a served app with `url`, `project`, `key_file`, `http`."""

    url: str
    project: str
    key_file: Path
    http: httpx.AsyncClient

    def headers(
        self, as_user: UserIdentity | None = ANONYMOUS, service: str = "gateway"
    ) -> dict[str, str]:
        """A service token for `service`, plus identity headers when a user is given."""
        token = _signer(self.key_file, service, self.project).sign(self.url)
        headers = {"authorization": f"Bearer {token}"}
        if as_user is not None:
            headers.update(identity_headers(as_user))
        return headers

    async def call(
        self,
        method: str,
        path: str,
        as_user: UserIdentity | None = ANONYMOUS,
        *,
        service: str | None = "gateway",
        headers: dict[str, str] | dict[str, bytes] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """`service=None` sends no service token at all."""
        sent: dict[str, Any] = self.headers(as_user, service) if service is not None else {}
        sent.update(headers or {})
        return await self.http.request(method, f"{self.url}{path}", headers=sent, **kwargs)
