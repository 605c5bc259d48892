"""Executions for real: gateway -> executor -> a deployed agent process, signed and checked."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from google.cloud import firestore

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_devstack.agents import local_agent, registration_card
from agora_executor.repository import ExecutorRepository
from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card, schema_bomb
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration

OPTION = {"spot": 100, "strike": 100, "time_to_expiry": 1, "rate": 0.05, "volatility": 0.2}


def call(
    stack: Stack, method: str, path: str, who: EmulatorUser | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {**(who.bearer if who else {}), **kwargs.pop("headers", {})}
    return httpx.request(method, stack.api(path), headers=headers, timeout=30, **kwargs)


def execute(
    stack: Stack, who: EmulatorUser, agent_id: str, tool: str, payload: dict[str, Any], **kw: Any
) -> httpx.Response:
    body = {"agent_id": agent_id, "tool_name": tool, "payload": payload}
    return call(stack, "POST", "/agents/execute", who, json=body, **kw)


def deploy_as_vetting(stack: Stack, agent_id: str) -> httpx.Response:
    return httpx.post(
        f"{stack.executor}/deploy",
        json={"agent_id": agent_id},
        headers=stack.as_service("vetting", stack.executor),
        timeout=60,
    )


@pytest.fixture(scope="module")
def owner(stack: Stack) -> EmulatorUser:
    return stack.auth.sign_up(name="owner")


@pytest.fixture(scope="module")
def user(stack: Stack) -> EmulatorUser:
    return stack.auth.sign_up(name="user")


def activate_quantflow(stack: Stack, owner: EmulatorUser) -> dict[str, Any]:
    """QuantFlow registered by `owner`, vetted, deployed by the local runtime: active. The agent
    as registered, with its `name` and its deployed `url`."""
    body = registration_card(local_agent("quantflow"), "quantflow")
    body["name"] = unique_name("QuantFlow")
    registered = call(stack, "POST", "/agents/register", owner, json=body)
    assert registered.status_code == 201, registered.text
    agent: dict[str, Any] = registered.json()
    stack.set_status(agent["id"], "vetted")
    deployed = deploy_as_vetting(stack, agent["id"])
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["status"] == "active"
    assert deployed.json()["runtime"] == "local"
    return agent | {"name": body["name"], "url": deployed.json()["url"]}


@pytest.fixture(scope="module")
def quantflow(stack: Stack, owner: EmulatorUser) -> dict[str, Any]:
    return activate_quantflow(stack, owner)


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[firestore.AsyncClient]:
    client = make_firestore_client(stack.executor_settings(stack.executor))
    yield client
    await close_firestore_client(client)


@pytest.fixture
def repository(db: firestore.AsyncClient) -> ExecutorRepository:
    return ExecutorRepository(db)


async def stored(db: firestore.AsyncClient, collection: str, doc_id: str) -> dict[str, Any]:
    snapshot = await db.collection(collection).document(doc_id).get()
    return snapshot.to_dict() or {}


async def eventually_stored(
    db: firestore.AsyncClient, collection: str, doc_id: str
) -> dict[str, Any]:
    """Execution logs are written in batches just after the answer: wait a little for one."""
    for _ in range(50):
        found = await stored(db, collection, doc_id)
        if found:
            return found
        await asyncio.sleep(0.05)
    return {}


# --- the journey -------------------------------------------------------------------------------


async def test_a_user_prices_an_option_with_quantflow(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any], db: firestore.AsyncClient
) -> None:
    response = execute(stack, user, quantflow["id"], "black_scholes", OPTION)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "succeeded"
    assert answer["result"]["call"]["price"] == pytest.approx(10.4506, abs=1e-4)
    assert answer["result"]["put"]["price"] == pytest.approx(5.5735, abs=1e-4)
    assert (answer["agent_id"], answer["tool_name"]) == (quantflow["id"], "black_scholes")
    assert 0 < answer["duration_ms"] < 5_000

    log = await eventually_stored(db, "execution_logs", answer["execution_id"])
    assert log["status"] == "succeeded"
    assert (log["agent_id"], log["caller_uid"], log["caller_kind"]) == (
        quantflow["id"],
        user.uid,
        "user",
    )
    assert log["request_bytes"] > 0 and log["response_bytes"] > 0
    assert log["cost_inputs"]["calls"] == 1
    assert "shipped" in log  # the outbox flag; analytics may have it already
    assert "payload" not in log and "result" not in log


def test_an_invalid_payload_is_400_with_paths_and_an_unknown_tool_404(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    bad = execute(stack, user, quantflow["id"], "black_scholes", {**OPTION, "spot": "a lot"})
    assert bad.status_code == 400, bad.text
    error = bad.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert error["details"][0]["path"] == "$.payload.spot"
    assert "a lot" not in bad.text
    missing = execute(stack, user, quantflow["id"], "black_scholes", {"spot": 100})
    assert {d["path"] for d in missing.json()["error"]["details"]} == {"$.payload"}
    unknown = execute(stack, user, quantflow["id"], "rm_rf", {})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "UNKNOWN_TOOL"


def test_an_idempotency_key_answers_once(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": f"price-{time.time_ns()}"}
    first = execute(stack, user, quantflow["id"], "black_scholes", OPTION, headers=key)
    again = execute(stack, user, quantflow["id"], "black_scholes", OPTION, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = execute(
        stack, user, quantflow["id"], "black_scholes", {**OPTION, "spot": 90}, headers=key
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_the_agent_refuses_calls_without_the_executors_signature(
    quantflow: dict[str, Any],
) -> None:
    body = {"tool_name": "black_scholes", "payload": OPTION}
    unsigned = httpx.post(f"{quantflow['url']}/execute", json=body)
    assert unsigned.status_code == 401
    forged = httpx.post(
        f"{quantflow['url']}/execute",
        json=body,
        headers={
            "X-Agent-Auth": f"agent_{quantflow['hash_id']}",
            "X-Agora-Timestamp": str(int(time.time())),
            "X-Agora-Signature": "v1=" + "0" * 64,
        },
    )
    assert forged.status_code == 401


def test_agent_health_is_probed_and_cached(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    first = call(stack, "GET", f"/agents/{quantflow['id']}/health", user)
    assert first.status_code == 200, first.text
    assert first.json()["healthy"] is True
    second = call(stack, "GET", f"/agents/{quantflow['id']}/health", user)
    assert second.json()["cached"] is True
    assert second.json()["checked_at"] == first.json()["checked_at"]


async def test_health_refuses_loopback_ports_no_local_agent_holds(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser, repository: ExecutorRepository
) -> None:
    # The stack's Redis and Auth emulator listen on loopback; no agent the runtime started does.
    redis_port = stack.emulator_env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
    auth_port = stack.emulator_env["FIREBASE_AUTH_EMULATOR_HOST"].rsplit(":", 1)[1]
    for url in (
        f"http://127.0.0.1:{redis_port}",
        f"http://127.0.0.1:{auth_port}",
        f"https://localhost:{auth_port}",
        f"https://2130706433:{auth_port}",
    ):
        agent_id = await active_agent_at(stack, owner, repository, url)
        answer = call(stack, "GET", f"/agents/{agent_id}/health", user)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["healthy"], body["status"], body["error"]) == (
            False,
            "unhealthy",
            "EGRESS_REFUSED",
        ), url
        assert "status_code" not in body  # never the remote's own answer


def test_pending_and_suspended_agents_are_not_executed(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser
) -> None:
    pending = call(stack, "POST", "/agents/register", owner, json=card(unique_name())).json()
    refused = execute(stack, owner, pending["id"], "black_scholes", {"spot": 1})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "AGENT_NOT_ACTIVE"
    hidden = execute(stack, user, pending["id"], "black_scholes", {"spot": 1})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "AGENT_NOT_FOUND"

    suspended = call(stack, "POST", "/agents/register", owner, json=card(unique_name())).json()
    stack.set_status(suspended["id"], "vetted", "active", "suspended")
    refused = execute(stack, owner, suspended["id"], "black_scholes", {"spot": 1})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "AGENT_NOT_ACTIVE"


# --- agents that misbehave ---------------------------------------------------------------------


def _rogue_app() -> FastAPI:
    app = FastAPI()

    @app.post("/slow/execute")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"status": "ok", "result": 1}

    @app.post("/garbage/execute")
    async def garbage() -> PlainTextResponse:
        return PlainTextResponse("<html>Traceback (most recent call last): secret=hunter2</html>")

    @app.post("/crash/execute")
    async def crash() -> PlainTextResponse:
        return PlainTextResponse("Internal Server Error: db password hunter2", status_code=500)

    @app.post("/redirect/execute")
    async def redirect(request: Request) -> RedirectResponse:
        return RedirectResponse("http://169.254.169.254/computeMetadata/v1/", status_code=307)

    return app


@pytest.fixture(scope="module")
def rogue(stack: Stack) -> Iterator[str]:
    with serving(_rogue_app(), stack.agent_ports[0]) as base:
        yield base


async def active_agent_at(
    stack: Stack,
    owner: EmulatorUser,
    repository: ExecutorRepository,
    url: str,
    **metadata: Any,
) -> str:
    """An active agent whose deployment record points at `url` (what a deploy would write)."""
    body = card(unique_name("Rogue"), metadata=metadata or None)
    agent = call(stack, "POST", "/agents/register", owner, json=body).json()
    stack.set_status(agent["id"], "vetted", "active")
    await repository.put_deployment(agent["id"], {"agent_id": agent["id"], "url": url})
    rotate_secret(stack, agent["id"])
    return str(agent["id"])


def rotate_secret(stack: Stack, agent_id: str) -> str:
    """What a deploy does at auth: a pending secret, then promoted to current."""
    as_executor = stack.as_service("executor", stack.auth_service)
    base = f"{stack.auth_service}/internal/agent-secrets/{agent_id}"
    secret = httpx.post(base, headers=as_executor)
    assert secret.status_code == 200
    assert httpx.post(f"{base}/promote", headers=as_executor).status_code == 204
    return str(secret.json()["secret"])


async def test_a_dead_agent_is_a_fast_503(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser, repository: ExecutorRepository
) -> None:
    agent_id = await active_agent_at(
        stack, owner, repository, f"http://127.0.0.1:{stack.agent_ports[1]}"
    )
    started = time.monotonic()
    response = execute(stack, user, agent_id, "black_scholes", {"spot": 1})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "AGENT_UNAVAILABLE"
    assert time.monotonic() - started < 1.0


async def test_a_slow_agent_is_504_at_its_own_timeout(
    stack: Stack,
    owner: EmulatorUser,
    user: EmulatorUser,
    repository: ExecutorRepository,
    rogue: str,
) -> None:
    agent_id = await active_agent_at(stack, owner, repository, f"{rogue}/slow", timeout_s=1)
    started = time.monotonic()
    response = execute(stack, user, agent_id, "black_scholes", {"spot": 1})
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "AGENT_TIMEOUT"
    assert 0.9 < elapsed < 3.0


@pytest.mark.parametrize("path", ["garbage", "crash", "redirect"])
async def test_a_bad_answer_is_502_and_never_reflected(
    stack: Stack,
    owner: EmulatorUser,
    user: EmulatorUser,
    repository: ExecutorRepository,
    rogue: str,
    path: str,
) -> None:
    agent_id = await active_agent_at(stack, owner, repository, f"{rogue}/{path}")
    response = execute(stack, user, agent_id, "black_scholes", {"spot": 1})
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "AGENT_BAD_ANSWER"
    assert "hunter2" not in response.text
    assert "169.254" not in response.text


# --- egress: an executor that started no agent (nothing local is admitted) ---------------------


@pytest.fixture(scope="module")
def strict_executor(stack: Stack) -> Iterator[str]:
    port = free_port()
    with stack.serve_executor(port=port, egress_local_endpoints=()) as url:
        yield url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}",  # a real local agent, but one another runtime started
        "https://127.0.0.1:{port}",
        "https://169.254.169.254",
        "https://10.0.0.1",
        "https://[::1]:{port}",
        "https://localhost:{port}",  # a name that resolves to a loopback address
        "https://metadata.google.internal",
    ],
)
async def test_the_executor_refuses_non_public_agent_addresses(
    stack: Stack,
    owner: EmulatorUser,
    repository: ExecutorRepository,
    quantflow: dict[str, Any],
    strict_executor: str,
    url: str,
) -> None:
    port = quantflow["url"].rsplit(":", 1)[1]
    agent_id = await active_agent_at(stack, owner, repository, url.format(port=port))
    who = UserIdentity(kind=CallerKind.USER, uid=owner.uid)
    started = time.monotonic()
    response = httpx.post(
        f"{strict_executor}/execute",
        json={"agent_id": agent_id, "tool_name": "black_scholes", "payload": {"spot": 1}},
        headers=stack.as_service("gateway", strict_executor, who),
    )
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "EGRESS_REFUSED"
    assert time.monotonic() - started < 2.5


# --- identities ---------------------------------------------------------------------------------


async def test_a_wrong_agent_claim_is_403_and_recorded(
    stack: Stack, owner: EmulatorUser, quantflow: dict[str, Any], db: firestore.AsyncClient
) -> None:
    token = call(stack, "POST", "/auth/token/custom", owner, json={"agent_id": quantflow["id"]})
    agent = stack.auth.sign_in_with_custom_token(token.json()["custom_token"])
    ok = execute(
        stack,
        agent,
        quantflow["id"],
        "compound_growth",
        {"principal": 1000, "annual_rate": 0.05, "compounds_per_year": 1, "years": 10},
        headers={"X-Agent-Auth": f"agent_{quantflow['hash_id']}"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["result"]["future_value"] == pytest.approx(1628.89, abs=0.01)
    claim = f"agent_impostor{time.time_ns()}"
    refused = execute(
        stack, agent, quantflow["id"], "black_scholes", OPTION, headers={"X-Agent-Auth": claim}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "AGENT_AUTH_FAILED"
    events = [doc.to_dict() or {} async for doc in db.collection("security_events").stream()]
    assert any(e.get("claimed") == claim and e.get("caller_uid") == agent.uid for e in events)


async def test_a_users_agent_claim_is_403_and_recorded(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any], db: firestore.AsyncClient
) -> None:
    """A user naming an agent in `X-Agent-Auth` is refused, not passed over in silence."""
    claim = f"agent_{quantflow['hash_id']}"
    refused = execute(
        stack, user, quantflow["id"], "black_scholes", OPTION, headers={"X-Agent-Auth": claim}
    )
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "AGENT_AUTH_FAILED"
    assert error["trace_id"]
    query = db.collection("security_events").where(
        filter=firestore.FieldFilter("caller_uid", "==", user.uid)
    )
    events = [doc.to_dict() or {} async for doc in query.stream()]
    assert [(e.get("kind"), e.get("caller_kind"), e.get("claimed")) for e in events] == [
        ("agent_auth_failed", "user", claim)
    ]
    assert events[0]["path"] == "/execute"
    plain = execute(stack, user, quantflow["id"], "black_scholes", OPTION)
    assert plain.status_code == 200, plain.text


def test_deploys_are_for_vetting_and_admins_only(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    body = {"agent_id": quantflow["id"]}
    assert call(stack, "POST", "/agents/deploy", None, json=body).status_code == 401
    for who in (owner, user):
        refused = call(stack, "POST", "/agents/deploy", who, json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "DEPLOY_NOT_ALLOWED"
    for service in ("gateway", "registry"):
        direct = httpx.post(
            f"{stack.executor}/deploy", json=body, headers=stack.as_service(service, stack.executor)
        )
        assert direct.status_code == 403, (service, direct.text)
    admin = stack.auth.sign_up(name="admin", admin=True)
    redeployed = call(stack, "POST", "/agents/deploy", admin, json=body)
    assert redeployed.status_code == 200, redeployed.text
    # The redeployed agent has a new secret and a new process; executions go on.
    assert execute(stack, user, quantflow["id"], "black_scholes", OPTION).status_code == 200


# --- the route x caller matrix -----------------------------------------------------------------

# Callers through the gateway: anonymous, user, owner, other, admin, agent (QuantFlow signed in
# as itself). Callers straight to the executor with their own identity: vetting, registry.
EXECUTOR_MATRIX: list[tuple[str, str, dict[str, int]]] = [
    (
        "execute",
        "POST /execute",
        {
            "anonymous": 401,
            "user": 200,
            "owner": 200,
            "other": 200,
            "admin": 200,
            "agent": 200,
            "vetting": 401,
            "registry": 403,
        },
    ),
    (
        "health",
        "GET /health/{id}",
        {
            "anonymous": 401,
            "user": 200,
            "owner": 200,
            "admin": 200,
            "agent": 200,
            "vetting": 401,
            "registry": 403,
        },
    ),
    (
        "deploy",
        "POST /deploy",
        {
            "anonymous": 401,
            "user": 403,
            "owner": 403,
            "admin": 200,
            "agent": 403,
            "vetting": 200,
            "registry": 403,
        },
    ),
]
PUBLIC = {"execute": "/agents/execute", "health": "/agents/{id}/health", "deploy": "/agents/deploy"}


@pytest.fixture(scope="module")
def callers(stack: Stack, owner: EmulatorUser, quantflow: dict[str, Any]) -> dict[str, Any]:
    token = call(stack, "POST", "/auth/token/custom", owner, json={"agent_id": quantflow["id"]})
    return {
        "user": stack.auth.sign_up(name="user"),
        "owner": owner,
        "other": stack.auth.sign_up(name="other"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
        "agent": stack.auth.sign_in_with_custom_token(token.json()["custom_token"]),
    }


@pytest.mark.parametrize(
    ("route", "caller", "expected"),
    [
        (route, caller, status)
        for route, _, expected in EXECUTOR_MATRIX
        for caller, status in expected.items()
    ],
)
def test_executor_routes_by_caller(
    stack: Stack,
    quantflow: dict[str, Any],
    callers: dict[str, Any],
    route: str,
    caller: str,
    expected: int,
) -> None:
    method = "GET" if route == "health" else "POST"
    body: dict[str, Any] | None = {"agent_id": quantflow["id"]}
    if route == "execute":
        body = {"agent_id": quantflow["id"], "tool_name": "black_scholes", "payload": OPTION}
    if route == "health":
        body = None
    if caller in ("vetting", "registry"):
        path = {"execute": "/execute", "health": f"/health/{quantflow['id']}", "deploy": "/deploy"}
        response = httpx.request(
            method,
            stack.executor + path[route],
            json=body,
            headers=stack.as_service(caller, stack.executor),
            timeout=60,
        )
    else:
        who = None if caller == "anonymous" else callers[caller]
        path = PUBLIC[route].replace("{id}", quantflow["id"])
        response = call(stack, method, path, who, json=body)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["error"]["code"]


async def test_a_retried_key_after_a_timeout_replays_the_timeout_not_the_tool(
    stack: Stack,
    owner: EmulatorUser,
    user: EmulatorUser,
    repository: ExecutorRepository,
    rogue: str,
) -> None:
    """The agent was called and may have run the tool: a retry must not run it a second time."""
    agent_id = await active_agent_at(stack, owner, repository, f"{rogue}/slow", timeout_s=1)
    key = {"Idempotency-Key": f"slow-{time.time_ns()}"}
    first = execute(stack, user, agent_id, "black_scholes", {"spot": 1}, headers=key)
    assert first.status_code == 504
    started = time.monotonic()
    again = execute(stack, user, agent_id, "black_scholes", {"spot": 1}, headers=key)
    assert again.status_code == 504
    assert again.json()["error"]["code"] == "AGENT_TIMEOUT"
    assert time.monotonic() - started < 0.9, "answered from the key, not by calling again"


async def test_a_key_whose_call_never_left_is_free_for_a_retry(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser, repository: ExecutorRepository
) -> None:
    agent_id = await active_agent_at(
        stack, owner, repository, f"http://127.0.0.1:{stack.agent_ports[1]}"
    )
    key = {"Idempotency-Key": f"down-{time.time_ns()}"}
    for _ in range(2):  # each attempt really tries the (dead) agent again
        response = execute(stack, user, agent_id, "black_scholes", {"spot": 1}, headers=key)
        assert response.status_code == 503
        assert "idempotent-replayed" not in response.headers


async def test_a_redeploy_under_way_does_not_break_executions(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any], repository: ExecutorRepository
) -> None:
    """Auth already holds a secret the running agent has never seen (a new revision rolling
    out); the executor falls back to the previous one, which the running agent knows."""
    rotate_secret(stack, quantflow["id"])
    port = free_port()
    endpoint = await asyncio.to_thread(stack.deployed_endpoint, quantflow["id"])
    with stack.serve_executor(
        port=port, egress_local_endpoints=(*stack.agent_endpoints, endpoint)
    ) as fresh_executor:  # nothing cached yet
        who = UserIdentity(kind=CallerKind.USER, uid=user.uid)
        response = httpx.post(
            f"{fresh_executor}/execute",
            json={"agent_id": quantflow["id"], "tool_name": "black_scholes", "payload": OPTION},
            headers=stack.as_service("gateway", fresh_executor, who),
            timeout=30,
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["call"]["price"] == pytest.approx(10.4506, abs=1e-4)


def test_a_failed_deploy_leaves_the_agent_vetted_and_can_be_retried(
    stack: Stack, owner: EmulatorUser
) -> None:
    body = card(unique_name("Missing"), metadata={"source": "agents/nosuchagent"})
    agent = call(stack, "POST", "/agents/register", owner, json=body).json()
    stack.set_status(agent["id"], "vetted")
    for _ in range(2):  # a retry is possible, and fails the same clear way
        failed = deploy_as_vetting(stack, agent["id"])
        assert failed.status_code == 502, failed.text
        assert failed.json()["error"]["code"] == "DEPLOY_FAILED"
        assert call(stack, "GET", f"/agents/{agent['id']}", owner).json()["status"] == "vetted"


def test_two_deploys_at_once_leave_a_working_agent(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    """Vetting and an admin deploying together: one at a time, and the secrets never cross."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: deploy_as_vetting(stack, quantflow["id"]), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert execute(stack, user, quantflow["id"], "black_scholes", OPTION).status_code == 200


# --- bad input on the executor's own route ----------------------------------------------------


def _as_gateway(stack: Stack, uid: str) -> dict[str, str]:
    return stack.as_service("gateway", stack.executor, UserIdentity(kind=CallerKind.USER, uid=uid))


@pytest.mark.parametrize(
    ("content", "headers", "status", "code", "path"),
    [
        (b'{"agent_id": "a", "tool_name": ', {}, 422, "VALIDATION_FAILED", "$.body"),
        (b'["agent_id"]', {}, 422, "VALIDATION_FAILED", "$.body"),
        (b'{"agent_id": 7, "tool_name": "t"}', {}, 422, "VALIDATION_FAILED", "$.body.agent_id"),
        (
            b'{"agent_id": "a/../b", "tool_name": "t"}',
            {},
            422,
            "VALIDATION_FAILED",
            "$.body.agent_id",
        ),
        (
            b'{"agent_id": "a", "tool_name": "t", "payload": []}',
            {},
            422,
            "VALIDATION_FAILED",
            "$.body.payload",
        ),
        (
            b'{"agent_id": "a", "tool_name": "t", "owner_uid": "x"}',
            {},
            422,
            "VALIDATION_FAILED",
            "$.body.owner_uid",
        ),
        (
            b'{"agent_id": "a", "tool_name": "t"}',
            {"content-type": "text/plain"},
            422,
            "VALIDATION_FAILED",
            "$.body",
        ),
        (
            b'{"agent_id": "a", "tool_name": "t"}',
            {"idempotency-key": "has space"},
            422,
            "VALIDATION_FAILED",
            "$.header.Idempotency-Key",
        ),
        (b'{"payload": {"x": "' + b"y" * 300_000 + b'"}}', {}, 413, "PAYLOAD_TOO_LARGE", None),
    ],
)
def test_bad_requests_get_envelopes_with_paths(
    stack: Stack,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
    path: str | None,
) -> None:
    sent = {"content-type": "application/json", **_as_gateway(stack, "bad-input-user"), **headers}
    response = httpx.post(f"{stack.executor}/execute", content=content, headers=sent, timeout=30)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["trace_id"]
    if path is not None:
        assert path in [detail["path"] for detail in error["details"]]
    assert "y" * 100 not in response.text  # the input is never echoed back


def test_callers_are_checked_before_the_body(stack: Stack) -> None:
    """No identity: 401 even for a malformed body; nobody learns how the body is read."""
    response = httpx.post(f"{stack.executor}/execute", content=b"{", timeout=30)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


# --- schemas stored before the budget existed --------------------------------------------------


CYCLE = {
    "type": "object",
    "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
    "properties": {"x": {"$ref": "#/$defs/a"}},
}


async def stored_with_schema(
    stack: Stack,
    owner: EmulatorUser,
    repository: ExecutorRepository,
    db: firestore.AsyncClient,
    schema: dict[str, Any],
) -> str:
    """An active agent whose stored card has `schema`, written past today's card rules."""
    agent_id = await active_agent_at(stack, owner, repository, f"http://127.0.0.1:{free_port()}")
    tool = {"name": "black_scholes", "description": "Stored long ago", "input_schema": schema}
    document = db.collection("agents").document(agent_id)
    stored_card = json.loads((await document.get()).to_dict()["card"])  # type: ignore[index]
    stored_card["tools"] = [tool]
    await document.update({"card": json.dumps(stored_card, sort_keys=True, separators=(",", ":"))})
    return agent_id


async def test_a_stored_bomb_schema_is_refused_at_once_and_delays_nobody(
    stack: Stack,
    owner: EmulatorUser,
    user: EmulatorUser,
    quantflow: dict[str, Any],
    repository: ExecutorRepository,
    db: firestore.AsyncClient,
) -> None:
    bomb_id = await stored_with_schema(stack, owner, repository, db, schema_bomb(16))
    assert execute(stack, user, quantflow["id"], "black_scholes", OPTION).status_code == 200

    def timed(agent_id: str, payload: dict[str, Any]) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = execute(stack, user, agent_id, "black_scholes", payload)
        return response, time.monotonic() - started

    # The bomb goes first; an ordinary execution follows while it would still be validating.
    bomb = asyncio.create_task(asyncio.to_thread(timed, bomb_id, {"x": 1}))
    await asyncio.sleep(0.2)
    ordinary, ordinary_s = await asyncio.to_thread(timed, quantflow["id"], OPTION)
    refused, refused_s = await bomb

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "TOOL_SCHEMA_TOO_COMPLEX"
    assert "$.input_schema.$defs.a8" in [d["path"] for d in error["details"]]
    assert refused_s < 1.0  # validating it took ~4 s of the event loop
    assert ordinary.status_code == 200, ordinary.text
    assert ordinary_s < 1.0  # and the ordinary call waited as long behind it


async def test_a_stored_ref_cycle_is_a_409_not_a_500(
    stack: Stack,
    owner: EmulatorUser,
    user: EmulatorUser,
    repository: ExecutorRepository,
    db: firestore.AsyncClient,
) -> None:
    agent_id = await stored_with_schema(stack, owner, repository, db, CYCLE)
    response = execute(stack, user, agent_id, "black_scholes", {"x": 1})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "TOOL_SCHEMA_TOO_COMPLEX"
