"""Vetting for real: register → a scan runs by itself through the Cloud Tasks emulator → an
admin approves → the local runtime deploys → another user executes. And the rest of the matrix."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_devstack.agents import local_agent, registration_card
from agora_vetting.app import create_app
from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import call, execute
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "vetting" / "fixtures"
TEXT = {"text": "Vetting keeps unsafe agents out. Approved agents serve users."}


@pytest.fixture(scope="module")
def sources(stack: Stack) -> Path:
    """What vetting may read: Genesis as it is, and an agent with a planted secret and an
    unsafe call."""
    stack.place_source("genesis")
    return stack.place_source("unsafe", FIXTURES / "unsafe_agent").parent


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, EmulatorUser]:
    return {
        "owner": stack.auth.sign_up(name="owner"),
        "user": stack.auth.sign_up(name="user"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
    }


async def audit_entries(stack: Stack) -> list[dict[str, Any]]:
    db = make_firestore_client(stack.vetting_settings())
    try:
        return [d.to_dict() async for d in db.collection("audit_log").stream()]
    finally:
        await close_firestore_client(db)


def register(stack: Stack, owner: EmulatorUser, source: str = "agents/genesis") -> str:
    body = registration_card(local_agent("genesis"), "genesis")
    body["name"] = unique_name("Genesis")
    body["metadata"]["source"] = source
    response = call(stack, "POST", "/agents/register", owner, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def latest_scan(stack: Stack, admin: EmulatorUser, agent_id: str) -> dict[str, Any] | None:
    response = call(stack, "GET", f"/vetting/{agent_id}/scan", admin)
    return response.json() if response.status_code == 200 else None


def test_the_main_journey(stack: Stack, people: dict[str, EmulatorUser], sources: Path) -> None:
    owner, admin, user = people["owner"], people["admin"], people["user"]
    agent_id = register(stack, owner)

    receipt = eventually(lambda: latest_scan(stack, admin, agent_id), seconds=180)
    assert receipt, "no scan ran by itself"
    assert receipt["verdict"] == "clean", receipt
    assert receipt["requested_by"] == "submission"
    names = {check["name"] for check in receipt["checks"]}
    assert {"card", "bandit", "semgrep", "detect-secrets"} <= names
    assert all(check["version"] for check in receipt["checks"] if check["name"] == "bandit")
    assert receipt["source_digest"]

    queue = call(stack, "GET", "/vetting/queue", admin, params={"limit": 100}).json()
    listed = {item["agent_id"]: item for item in queue["items"]}
    assert listed[agent_id]["latest_scan"]["verdict"] == "clean"

    approved = call(
        stack, "POST", f"/vetting/{agent_id}/approve", admin, json={"notes": "looks good"}
    )
    assert approved.status_code == 200, approved.text
    decision = approved.json()
    assert (decision["decision"], decision["status"]) == ("approved", "active")
    assert decision["deploy"]["runtime"] == "local"
    audit = [
        e for e in asyncio.run(audit_entries(stack)) if e["target"].get("agent_id") == agent_id
    ]
    assert [(e["action"], e["actor"]["uid"]) for e in audit] == [("agent.approve", admin.uid)]

    answer = execute(stack, user, agent_id, "text_statistics", TEXT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"

    # Approving twice has the effect of once: the same decision, no second deploy.
    again = call(stack, "POST", f"/vetting/{agent_id}/approve", admin, json={})
    assert again.status_code == 200
    assert again.json()["deploy"] == decision["deploy"]

    # The owner sees the decision; another user does not.
    assert call(stack, "GET", f"/vetting/{agent_id}/decision", owner).status_code == 200
    assert call(stack, "GET", f"/vetting/{agent_id}/decision", user).status_code == 403


def test_the_owner_and_admins_read_the_latest_scan_and_no_one_else(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    """`GET /vetting/{id}/scan` follows the decision's rule: the owner and admins; another user
    gets 404 while the agent is hidden from them and 403 once it is active; no service but the
    gateway speaks for a user."""
    owner, admin, user = people["owner"], people["admin"], people["user"]
    agent_id = register(stack, owner)
    path = f"/vetting/{agent_id}/scan"

    receipt = eventually(
        lambda: (r := call(stack, "GET", path, owner)).status_code == 200 and r.json(),
        seconds=180,
    )
    assert receipt and receipt["agent_id"] == agent_id
    assert call(stack, "GET", path, admin).json() == receipt
    assert call(stack, "GET", path, None).status_code == 401
    hidden = call(stack, "GET", path, user)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "AGENT_NOT_FOUND")
    assert call(stack, "GET", f"/vetting/{agent_id}/decision", user).status_code == 404

    stack.set_status(agent_id, "vetted", "active")
    visible = call(stack, "GET", path, user)
    assert (visible.status_code, visible.json()["error"]["code"]) == (403, "NOT_AGENT_OWNER")
    assert call(stack, "GET", f"/vetting/{agent_id}/decision", user).status_code == 403

    # Services call vetting directly: an allowlisted one without a user is anonymous (401), one
    # claiming a user is refused, and one off the allowlist is refused outright.
    url = f"{stack.vetting}/{agent_id}/scan"
    owner_identity = UserIdentity(kind=CallerKind.USER, uid=owner.uid)
    as_registry = httpx.get(url, headers=stack.as_service("registry", stack.vetting), timeout=10)
    assert as_registry.status_code == 401
    claiming = httpx.get(
        url, headers=stack.as_service("registry", stack.vetting, owner_identity), timeout=10
    )
    assert (claiming.status_code, claiming.json()["error"]["code"]) == (
        403,
        "IDENTITY_NOT_ALLOWED",
    )
    outsider = httpx.get(url, headers=stack.as_service("analytics", stack.vetting), timeout=10)
    assert (outsider.status_code, outsider.json()["error"]["code"]) == (403, "CALLER_NOT_ALLOWED")
    as_gateway = httpx.get(
        url, headers=stack.as_service("gateway", stack.vetting, owner_identity), timeout=10
    )
    assert as_gateway.status_code == 200


def queued(stack: Stack, admin: EmulatorUser, **params: str) -> set[str]:
    """Every agent id in the queue, page by page (other tests of the stack leave theirs in it)."""
    found: set[str] = set()
    cursor: str | None = None
    while True:
        query = {**params, "limit": "100", **({"cursor": cursor} if cursor else {})}
        page = call(stack, "GET", "/vetting/queue", admin, params=query).json()
        found |= {item["agent_id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


def test_planted_secret_and_unsafe_call_are_findings_in_the_queue(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    agent_id = register(stack, people["owner"], source="agents/unsafe")
    receipt = eventually(lambda: latest_scan(stack, people["admin"], agent_id), seconds=180)
    assert receipt and receipt["verdict"] == "findings", receipt
    scanners = {finding["scanner"] for finding in receipt["findings"] if "scanner" in finding}
    assert {"bandit", "semgrep", "detect-secrets"} <= scanners

    assert agent_id in queued(stack, people["admin"], verdict="findings")

    # Not approvable as it is; an admin may override, knowingly (recorded).
    refused = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "SCAN_NOT_CLEAN"

    rejected = call(
        stack,
        "POST",
        f"/vetting/{agent_id}/reject",
        people["admin"],
        json={"reason": "secret in source; shell=True on input"},
    )
    assert rejected.status_code == 200, rejected.text
    seen = call(stack, "GET", f"/agents/{agent_id}", people["owner"]).json()
    assert seen["status"] == "rejected"
    assert seen["status_reason"] == "secret in source; shell=True on input"
    first_scan = receipt["scan_id"]

    # The owner fixes the source and resubmits: pending again, and scanned again by itself.
    metadata = {**seen["card"]["metadata"], "source": "agents/genesis"}
    fixed = call(
        stack, "PATCH", f"/agents/{agent_id}", people["owner"], json={"metadata": metadata}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "pending-vetting"
    rescanned = eventually(
        lambda: (
            (r := latest_scan(stack, people["admin"], agent_id))
            and r["scan_id"] != first_scan
            and r
        ),
        seconds=180,
    )
    assert rescanned and rescanned["verdict"] == "clean", rescanned


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/vetting/queue", None),
        ("POST", "/vetting/{id}/scan", None),
        ("POST", "/vetting/{id}/approve", {}),
        ("POST", "/vetting/{id}/reject", {"reason": "no"}),
        ("POST", "/vetting/{id}/suspend", {"reason": "no"}),
        ("POST", "/vetting/{id}/reinstate", {"reason": "no"}),
    ],
)
def test_non_admins_cannot_work_the_queue(
    stack: Stack, people: dict[str, EmulatorUser], method: str, path: str, body: Any
) -> None:
    target = path.format(id="some-agent")
    for who, expected in ((people["owner"], 403), (people["user"], 403), (None, 401)):
        response = call(stack, method, target, who, json=body)
        assert response.status_code == expected, (who, response.text)
        assert "error" in response.json()


def test_a_task_delivered_twice_scans_once_and_needs_the_credential(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    agent_id = register(stack, people["owner"])
    first = eventually(lambda: latest_scan(stack, people["admin"], agent_id), seconds=180)
    assert first
    ticket = {
        "scan_id": first["scan_id"],
        "agent_id": agent_id,
        "card_digest": first["card_digest"],
    }
    url = f"{stack.vetting}/internal/tasks/scan"
    credential = {"X-Agora-Task-Credential": stack.task_credential}
    again = httpx.post(url, json=ticket, headers=credential, timeout=60)
    assert again.status_code == 204
    assert latest_scan(stack, people["admin"], agent_id) == first  # the receipt is unchanged

    assert httpx.post(url, json=ticket, timeout=10).status_code == 401
    wrong = httpx.post(url, json=ticket, headers={"X-Agora-Task-Credential": "x"}, timeout=10)
    assert wrong.status_code == 403
    as_gateway = httpx.post(
        url, json=ticket, headers=stack.as_service("gateway", stack.vetting), timeout=10
    )
    assert as_gateway.status_code == 403


def test_a_failed_deploy_leaves_it_vetted_and_a_retry_succeeds(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    agent_id = register(stack, people["owner"])
    assert eventually(lambda: latest_scan(stack, people["admin"], agent_id), seconds=180)
    admin_headers = people["admin"].bearer

    # A vetting whose executor is unreachable (a closed port): the deploy fails.
    port = free_port()
    broken = stack.vetting_settings(
        service_urls={"registry": stack.registry, "executor": "http://127.0.0.1:9"},
        iam_audiences=(f"http://127.0.0.1:{port}",),
    )
    admin = UserIdentity(kind=CallerKind.USER, uid=people["admin"].uid, admin=True)
    with serving(create_app(broken), port) as url:
        failed = httpx.post(
            f"{url}/{agent_id}/approve",
            json={"notes": "first try"},
            headers=stack.as_service("gateway", url, admin),
            timeout=60,
        )
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"]["code"] == "DEPLOY_FAILED"
    seen = call(stack, "GET", f"/agents/{agent_id}", people["owner"]).json()
    assert seen["status"] == "vetted"
    recorded = httpx.get(
        stack.api(f"/vetting/{agent_id}/decision"), headers=admin_headers, timeout=30
    ).json()
    assert recorded["status"] == "vetted"
    assert recorded["deploy"]["status"] == "failed"

    retried = call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={})
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "active"


def test_a_deployed_revision_missing_a_declared_tool_is_not_activated(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    """An image-only card is not probed before approval; the deployed revision is, after."""
    owner, admin = people["owner"], people["admin"]
    body = registration_card(local_agent("genesis"), "genesis")
    body["name"] = unique_name("Genesis")
    ghost = {**body["tools"][0], "name": "translate", "description": "Not in the image"}
    body["tools"].append(ghost)
    registered = call(stack, "POST", "/agents/register", owner, json=body)
    assert registered.status_code == 201, registered.text
    agent_id = registered.json()["id"]
    receipt = eventually(lambda: latest_scan(stack, admin, agent_id), seconds=180)
    assert receipt, "no scan ran by itself"
    assert receipt["verdict"] == "clean", receipt  # what the probe finding below is for

    refused = call(stack, "POST", f"/vetting/{agent_id}/approve", admin, json={"notes": "ok"})

    assert refused.status_code == 502, refused.text
    error = refused.json()["error"]
    assert error["code"] == "DEPLOY_PROBE_FAILED"
    assert [d.get("missing") for d in error["details"]] == [["translate"]]
    assert call(stack, "GET", f"/agents/{agent_id}", owner).json()["status"] == "vetted"
    decision = call(stack, "GET", f"/vetting/{agent_id}/decision", admin).json()
    assert decision["status"] == "vetted"
    assert decision["deploy"]["error"] == "DEPLOY_PROBE_FAILED"
    (finding,) = decision["deploy"]["findings"]
    assert (finding["check"], finding["missing"]) == ("deploy_probe", ["translate"])
    assert finding["severity"] == "high"
    # Nothing runs and nothing was recorded: no call can reach the revision.
    answer = execute(stack, people["user"], agent_id, "text_statistics", TEXT)
    assert answer.status_code in (404, 409), answer.text
    direct = httpx.post(
        f"{stack.executor}/deploy",
        json={"agent_id": agent_id},
        headers=stack.as_service("vetting", stack.executor),
        timeout=60,
    )
    assert direct.status_code == 502, direct.text
    assert direct.json()["error"]["code"] == "DEPLOY_PROBE_FAILED"
    assert call(stack, "GET", f"/agents/{agent_id}", owner).json()["status"] == "vetted"


def test_suspend_and_reinstate(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    agent_id = register(stack, people["owner"])
    assert eventually(lambda: latest_scan(stack, people["admin"], agent_id), seconds=180)
    assert (
        call(stack, "POST", f"/vetting/{agent_id}/approve", people["admin"], json={}).status_code
        == 200
    )
    suspended = call(
        stack, "POST", f"/vetting/{agent_id}/suspend", people["admin"], json={"reason": "abuse"}
    )
    assert suspended.status_code == 200, suspended.text
    refused = execute(stack, people["user"], agent_id, "text_statistics", TEXT)
    assert refused.status_code in (403, 404, 409), refused.text
    reinstated = call(
        stack, "POST", f"/vetting/{agent_id}/reinstate", people["admin"], json={"reason": "ok"}
    )
    assert reinstated.status_code == 200, reinstated.text
    # The executor reuses an agent's record for a few seconds (agent_cache_ttl_s).
    assert eventually(
        lambda: (
            execute(stack, people["user"], agent_id, "text_statistics", TEXT).status_code == 200
        ),
        seconds=15,
    )


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    """An owner's webhook endpoint on this machine: never reachable, in any mode."""
    received: list[tuple[bytes, str]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((await request.body(), request.headers["x-agora-signature"]))
        return JSONResponse({"ok": True})

    with serving(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url, received


def test_the_owner_s_webhook_never_goes_to_loopback(
    stack: Stack,
    people: dict[str, EmulatorUser],
    receiver: tuple[str, list[tuple[bytes, str]]],
) -> None:
    url, received = receiver
    port = url.rsplit(":", 1)[1]
    owner = stack.auth.sign_up(name="hooked-owner")
    for target in (
        f"{url}/hook",
        f"https://127.0.0.1:{port}/hook",
        f"https://localhost:{port}/hook",
        f"https://0x7f000001:{port}/hook",
        f"https://2130706433:{port}/hook",
        f"https://0177.0.0.1:{port}/hook",
        f"https://127.1:{port}/hook",
        "https://10.1.2.3/x",
    ):
        refused = call(stack, "PUT", "/vetting/webhook", owner, json={"url": target})
        assert refused.status_code == 422, (target, refused.text)
    assert call(stack, "GET", "/vetting/webhook", owner).status_code == 404

    agent_id = register(stack, owner)
    rejected = call(
        stack, "POST", f"/vetting/{agent_id}/reject", people["admin"], json={"reason": "not yet"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["webhook"] is None  # no hook was kept, so none was called
    assert received == []


def test_an_admin_scans_on_demand_and_pages_the_queue(
    stack: Stack, people: dict[str, EmulatorUser], sources: Path
) -> None:
    admin = people["admin"]
    agent_id = register(stack, people["owner"])
    first = eventually(lambda: latest_scan(stack, admin, agent_id), seconds=180)
    assert first and first["requested_by"] == "submission"

    for _ in range(3):  # a pair of asks that straddles a minute boundary names two minutes
        asked = [call(stack, "POST", f"/vetting/{agent_id}/scan", admin) for _ in range(2)]
        assert [a.status_code for a in asked] == [202, 202]
        ids = [a.json()["scan_id"] for a in asked]
        minutes = [int(i.rsplit("-", 1)[1]) for i in ids]
        if minutes[0] == minutes[1]:
            break
        assert minutes[1] == minutes[0] + 1, ids  # only the minute may differ, by one
    scan_id = asked[0].json()["scan_id"]
    assert asked[1].json()["scan_id"] == scan_id  # same agent, card and minute: one task name
    again = eventually(
        lambda: (r := latest_scan(stack, admin, agent_id)) and r["scan_id"] == scan_id and r,
        seconds=180,
    )
    assert again and again["requested_by"] == admin.uid

    register(stack, people["owner"])  # at least two pending submissions to page through
    page = call(stack, "GET", "/vetting/queue", admin, params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    following = call(
        stack, "GET", "/vetting/queue", admin, params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert following["items"][0]["agent_id"] != page["items"][0]["agent_id"]
    bad = call(stack, "GET", "/vetting/queue", admin, params={"cursor": "yesterday"})
    assert bad.status_code == 422
