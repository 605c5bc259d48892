"""The Tool Factory for real, through the gateway: generate an http tool from a local REST API's
OpenAPI document, download and submit the package, the scan runs by itself (the package's tests
too), a non-admin cannot approve, the admin does, the tool is deployed and listed, and another
user executes it and gets the upstream's answer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import call, execute
from tests.support.firebase import EmulatorUser
from tests.support.servers import serving
from tests.support.waiting import eventually
from tests.tool.test_factory_llm import GOOD, adder_request, completion

pytestmark = pytest.mark.integration


PROVIDER_CALLS: list[dict[str, Any]] = []


def quotes_api() -> FastAPI:
    """A small REST service standing in for the API an owner wraps, and for an LLM provider's
    OpenAI-compatible chat API (a third party that cannot run here)."""
    app = FastAPI(title="Quotes", version="1.0.0")

    @app.get("/quotes/{symbol}", operation_id="get_quote", summary="The last price of a symbol")
    async def get_quote(symbol: str, currency: str = "USD") -> dict[str, Any]:
        return {"symbol": symbol.upper(), "price": 101.5, "currency": currency}

    @app.post("/v1/chat/completions", include_in_schema=False)
    async def chat(request: Request) -> dict[str, Any]:
        PROVIDER_CALLS.append({"authorization": request.headers.get("authorization")})
        return completion(GOOD)

    return app


@pytest.fixture(scope="module")
def upstream(stack: Stack) -> Iterator[str]:
    with serving(quotes_api(), stack.upstream_port) as url:
        yield url


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, EmulatorUser]:
    return {
        "owner": stack.auth.sign_up(name="builder"),
        "user": stack.auth.sign_up(name="caller"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
    }


def finished(stack: Stack, who: EmulatorUser, job_id: str) -> dict[str, Any] | None:
    job = call(stack, "GET", f"/tools/generate/{job_id}", who)
    assert job.status_code == 200, job.text
    body: dict[str, Any] = job.json()
    return body if body["status"] in ("ready", "failed") else None


@pytest.mark.timeout(480)  # two scans (the factory's and vetting's) and a deploy, on 2 cores
def test_generate_submit_vet_approve_execute(
    stack: Stack, people: dict[str, EmulatorUser], upstream: str
) -> None:
    owner, user, admin = people["owner"], people["user"], people["admin"]
    document = httpx.get(f"{upstream}/openapi.json").json()
    spec = {
        "name": unique_name("Quotes"),
        "description": "Quotes from the quotes API",
        "kind": "http",
        "openapi": document,
        "operation_ids": ["get_quote"],
        "base_url": upstream,
    }
    started = call(stack, "POST", "/tools/generate", owner, json=spec)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert call(stack, "GET", f"/tools/generate/{job_id}", user).status_code == 404
    job = eventually(lambda: finished(stack, owner, job_id), seconds=240)
    assert job and job["status"] == "ready", job
    assert {"agent-card.json", "pyproject.toml", "Dockerfile", "README.md"} <= set(job["files"])

    package = call(stack, "GET", f"/tools/generate/{job_id}/package", owner)
    assert package.status_code == 200
    assert "sha256:" + hashlib.sha256(package.content).hexdigest() == job["package_digest"]

    submitted = call(
        stack,
        "POST",
        "/tools/submit",
        owner,
        content=package.content,
        headers={"content-type": "application/gzip"},
    )
    assert submitted.status_code == 201, submitted.text
    agent_id = submitted.json()["agent_id"]
    [tool_id] = submitted.json()["tool_ids"]
    assert submitted.json()["status"] == "pending-vetting"

    def scanned() -> dict[str, Any] | None:
        answer = call(stack, "GET", f"/vetting/{agent_id}/scan", admin)
        return answer.json() if answer.status_code == 200 else None

    receipt = eventually(scanned, seconds=240)
    assert receipt, "no scan ran by itself"
    checks = {check["name"]: check for check in receipt["checks"]}
    assert checks["tests"]["status"] == "ok", checks["tests"]  # its own tests, in the sandbox
    for name in ("card", "bandit", "semgrep", "detect-secrets"):
        assert checks[name]["status"] == "ok", checks[name]
    # pip-audit asks PyPI's vulnerability data about httpx and pydantic, which this offline
    # machine cannot reach: the scan is inconclusive for that reason alone, and the admin
    # approves knowingly (accept_findings, recorded on the decision).
    assert receipt["verdict"] == "inconclusive", receipt["reason"]
    assert checks["pip-audit"]["status"] != "findings", checks["pip-audit"]
    assert (receipt["reason"] or "").startswith("pip-audit: could not audit"), receipt["reason"]

    refused = call(stack, "PATCH", f"/tools/{tool_id}/approve", user, json={})
    assert refused.status_code == 403
    not_accepted = call(stack, "PATCH", f"/tools/{tool_id}/approve", admin, json={})
    assert not_accepted.status_code == 409  # vetting's own answer, relayed
    assert not_accepted.json()["error"]["code"] == "SCAN_NOT_CLEAN"
    body = {"notes": "pip-audit offline only", "accept_findings": True}
    approved = call(stack, "PATCH", f"/tools/{tool_id}/approve", admin, json=body)
    assert approved.status_code == 200, approved.text
    assert approved.json()["tool"]["status"] == "active"
    assert approved.json()["decision"]["decision"] == "approved"

    listed = call(stack, "GET", "/tools/catalog", params={"agent_id": agent_id}).json()
    assert [item["tool_id"] for item in listed["items"]] == [tool_id]

    tool_name = tool_id.split(".", 1)[1]
    answer = execute(stack, user, agent_id, tool_name, {"symbol": "abc", "currency": "EUR"})
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result == {"symbol": "ABC", "price": 101.5, "currency": "EUR"}, result


def test_an_llm_tool_is_written_by_the_users_own_provider(
    stack: Stack, people: dict[str, EmulatorUser], upstream: str
) -> None:
    owner = stack.auth.sign_up(name="llm-builder")
    spec = adder_request().model_dump(mode="json", exclude_none=True)
    missing = call(stack, "POST", "/tools/generate", owner, json=spec)
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["code"] == "PROVIDER_KEY_MISSING"

    key = "sk-llm-" + hashlib.sha256(owner.uid.encode()).hexdigest()[:24]
    stored = call(stack, "PATCH", "/auth/user/api-keys", owner, json={"openai": key})
    assert stored.status_code == 200, stored.text
    PROVIDER_CALLS.clear()
    started = call(stack, "POST", "/tools/generate", owner, json=spec)
    assert started.status_code == 202, started.text
    job = eventually(lambda: finished(stack, owner, started.json()["job_id"]), seconds=240)
    assert job and job["status"] == "ready", job
    assert [{"authorization": f"Bearer {key}"}] == PROVIDER_CALLS  # the user's key, to it alone
    assert "return AdderOutput(sum=_checked(payload.a) + _checked(payload.b))" in "".join(
        job["files"].values()
    )
    assert key not in str(job)
