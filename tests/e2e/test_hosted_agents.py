"""Agents hosted elsewhere: a card with a URL and nothing to deploy is scanned, approved without a
deploy (vetted → active) and called at its URL, under the egress rule at scan and at execution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import call, execute
from tests.support.factories import card
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


class Hosted:
    """A stand-in agent on its own host: the platform's protocol, and what it was sent."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def app(self) -> Starlette:
        async def health(_: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        async def agent_card(_: Request) -> JSONResponse:
            return JSONResponse({"skills": [{"name": "black_scholes"}]})

        async def run(request: Request) -> JSONResponse:
            body = await request.json()
            self.calls.append({"body": body, "headers": dict(request.headers)})
            return JSONResponse({"status": "ok", "result": {"price": body["payload"]["spot"]}})

        return Starlette(
            routes=[
                Route("/health", health),
                Route("/.well-known/agent-card.json", agent_card),
                Route("/execute", run, methods=["POST"]),
            ]
        )


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, EmulatorUser]:
    return {
        "owner": stack.auth.sign_up(name="hosted-owner"),
        "user": stack.auth.sign_up(name="hosted-user"),
        "admin": stack.auth.sign_up(name="hosted-admin", admin=True),
    }


@pytest.fixture(scope="module")
def hosted(stack: Stack) -> Iterator[tuple[Hosted, str]]:
    agent = Hosted()
    with serving(agent.app(), stack.agent_ports[0]) as base:
        yield agent, base


def register_at(stack: Stack, owner: EmulatorUser, url: str) -> str:
    body = card(unique_name("Hosted"), deployment={"url": url})
    response = call(stack, "POST", "/agents/register", owner, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def scanned(stack: Stack, admin: EmulatorUser, agent_id: str) -> dict[str, Any]:
    def latest() -> dict[str, Any] | None:
        response = call(stack, "GET", f"/vetting/{agent_id}/scan", admin)
        return response.json() if response.status_code == 200 else None

    receipt = eventually(latest, seconds=120)
    assert receipt, "no scan ran by itself"
    return receipt


def test_a_url_only_agent_is_approved_without_a_deploy_and_called_at_its_url(
    stack: Stack, people: dict[str, EmulatorUser], hosted: tuple[Hosted, str]
) -> None:
    agent, base = hosted
    agent_id = register_at(stack, people["owner"], base)
    receipt = scanned(stack, people["admin"], agent_id)
    assert receipt["verdict"] == "clean", receipt
    checks = {c["name"]: c["status"] for c in receipt["checks"]}
    assert checks["egress"] == "ok" and checks["live_probe"] == "ok"

    approved = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={})
    assert approved.status_code == 200, approved.text
    decision = approved.json()
    assert (decision["decision"], decision["status"]) == ("approved", "active")
    assert decision["deploy"]["runtime"] == "external"
    assert decision["deploy"]["url"] == base
    shown = call(stack, "GET", f"/agents/{agent_id}", people["user"])
    assert shown.status_code == 200 and shown.json()["status"] == "active"

    answer = execute(stack, people["user"], agent_id, "black_scholes", {"spot": 7})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"
    assert answer.json()["result"] == {"price": 7}
    sent = agent.calls[-1]
    assert sent["body"]["tool_name"] == "black_scholes"
    # Never deployed here: no signing secret exists, and the executor's identity is not sent.
    assert "authorization" not in sent["headers"]
    assert not {"x-agent-auth", "x-agora-signature"} & set(sent["headers"])

    # Approving again answers the same decision and changes nothing.
    again = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={})
    assert again.status_code == 200 and again.json()["deploy"] == decision["deploy"]


def test_a_url_the_guard_refuses_is_a_finding_at_scan_and_refused_at_execution(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    """A loopback port no agent holds: the scan finds it, and even when an admin accepts the
    findings the executor never connects there."""
    agent_id = register_at(stack, people["owner"], f"http://127.0.0.1:{free_port()}")
    receipt = scanned(stack, people["admin"], agent_id)
    assert receipt["verdict"] == "findings"
    assert any(f["check"] == "egress" for f in receipt["findings"])

    refused = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "SCAN_NOT_CLEAN"

    body = {"accept_findings": True}
    approved = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json=body)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    answer = execute(stack, people["user"], agent_id, "black_scholes", {"spot": 1})
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "EGRESS_REFUSED"
