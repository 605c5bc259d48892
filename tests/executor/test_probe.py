"""RevisionProbe against a real HTTP server standing in for a deployed agent revision."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora_common.egress import EgressGuard
from agora_common.egress_client import make_guarded_client
from agora_common.iam.client import ServiceAuth
from agora_executor.probe import RevisionProbe
from tests.support.servers import serving

CLOSED = 9  # nothing listens on the discard port here
SEEN: list[str | None] = []
STATE: dict[str, Any] = {"health": 200, "tools": ["a", "b"]}


class FixedToken:
    async def token(self, audience: str) -> str:
        return f"token-for-{audience}"


async def health(request: Request) -> JSONResponse:
    SEEN.append(request.headers.get("authorization"))
    return JSONResponse({"status": "ok"}, status_code=STATE["health"])


async def agent_card(request: Request) -> JSONResponse:
    return JSONResponse({"name": "x", "tools": [{"name": n} for n in STATE["tools"]]})


@pytest.fixture(scope="module")
def revision() -> Iterator[str]:
    app = Starlette(
        routes=[Route("/health", health), Route("/.well-known/agent-card.json", agent_card)]
    )
    with serving(app) as url:
        yield url


@pytest.fixture
async def probe(revision: str) -> AsyncIterator[RevisionProbe]:
    STATE.update(health=200, tools=["a", "b"])
    # The revision's endpoint, and a closed one for the unreachable case.
    guard = EgressGuard(allowed_endpoints=(urlsplit(revision).netloc, f"127.0.0.1:{CLOSED}"))
    async with make_guarded_client(guard, timeout_s=2.0) as http:
        yield RevisionProbe(http, guard, ServiceAuth(FixedToken()), timeout_s=2.0)


async def test_a_matching_revision_has_no_findings(probe: RevisionProbe, revision: str) -> None:
    assert await probe.findings(revision, ["a", "b"]) == []
    assert SEEN[-1] == f"Bearer token-for-{revision}"  # the executor's identity, for Cloud Run


async def test_a_missing_tool_is_named(probe: RevisionProbe, revision: str) -> None:
    (finding,) = await probe.findings(revision, ["a", "b", "c", "d"])
    assert (finding["check"], finding["missing"]) == ("card", ["c", "d"])


async def test_a_failing_health_is_a_finding(probe: RevisionProbe, revision: str) -> None:
    STATE["health"] = 503
    (finding,) = await probe.findings(revision, ["a"])
    assert (finding["check"], finding["status"]) == ("health", 503)


async def test_an_unreachable_revision_is_a_finding(probe: RevisionProbe) -> None:
    (finding,) = await probe.findings(f"http://127.0.0.1:{CLOSED}", ["a"])
    assert finding["check"] == "/health"
    assert finding["message"] == "unreachable"
