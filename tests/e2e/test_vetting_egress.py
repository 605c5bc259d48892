"""The vetting probe under the one egress rule: loopback is refused, save a local deployment.

Each scan runs on a real vetting app through its task route, with the real guarded client,
against real listeners on this machine: a redis-server, a plain TCP listener that counts what
connects, and a stand-in agent that a `local` deployment record admits.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_devstack.agents import local_agent, registration_card
from agora_vetting.app import create_app
from tests.e2e.conftest import Stack, unique_name
from tests.e2e.test_execute import call
from tests.support.firebase import EmulatorUser
from tests.support.redis import redis_server
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration
DIGEST = "0" * 64  # a ticket's digest; a mismatch only makes the verdict inconclusive


class Listener:
    """A loopback TCP port that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.accepted = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def vetting(stack: Stack) -> Iterator[str]:
    """A vetting app of this test's own, in local mode like the stack's."""
    port = free_port()
    settings = stack.vetting_settings(iam_audiences=(f"http://127.0.0.1:{port}",))
    with serving(create_app(settings), port) as url:
        yield url


def register(stack: Stack, owner: EmulatorUser, url: str) -> tuple[str, list[str]]:
    """An agent whose card points at `url`, with no source (so no static scan): id, tools."""
    body = registration_card(local_agent("genesis"), "genesis")
    body["name"] = unique_name("Probe")
    body["deployment"] = {"url": url}
    body["metadata"].pop("source", None)
    response = call(stack, "POST", "/agents/register", owner, json=body)
    assert response.status_code == 201, (url, response.text)
    return str(response.json()["id"]), [str(tool["name"]) for tool in body["tools"]]


def scan(stack: Stack, vetting: str, agent_id: str) -> dict[str, dict[str, Any]]:
    """Run one scan now on `vetting`; its checks by name."""
    scan_id = f"egress-{unique_name('s')}"
    ticket = {"scan_id": scan_id, "agent_id": agent_id, "card_digest": DIGEST}
    headers = {"X-Agora-Task-Credential": stack.task_credential}
    ran = httpx.post(f"{vetting}/internal/tasks/scan", json=ticket, headers=headers, timeout=60)
    assert ran.status_code == 204, ran.text
    receipt = asyncio.run(_firestore(stack, "get_receipt", scan_id))
    assert receipt is not None
    return {check["name"]: check for check in receipt["checks"]}


async def _firestore(stack: Stack, what: str, key: str, data: Any = None) -> Any:
    db = make_firestore_client(stack.vetting_settings())
    try:
        if what == "put_deployment":
            await db.collection("deployments").document(key).set(data)
            return None
        snapshot = await db.collection("scan_receipts").document(key).get()
        return snapshot.to_dict() if snapshot.exists else None
    finally:
        await close_firestore_client(db)


def assert_refused(checks: dict[str, dict[str, Any]], target: str) -> None:
    assert checks["egress"]["status"] == "findings", (target, checks["egress"])
    assert checks["live_probe"]["status"] == "failed", (target, checks["live_probe"])
    assert checks["live_probe"]["reason"] == "EgressRefused", (target, checks["live_probe"])


def test_the_probe_reaches_no_loopback_service(
    stack: Stack,
    people: dict[str, EmulatorUser],
    vetting: str,
    listener: Listener,
) -> None:
    owner = people["owner"]
    redis_port = free_port()
    auth_emulator = stack.emulator_env["FIREBASE_AUTH_EMULATOR_HOST"]
    with redis_server(redis_port):
        watcher = redis.Redis(port=redis_port)
        before = int(watcher.info("stats")["total_connections_received"])
        for target in (
            f"http://127.0.0.1:{redis_port}",
            f"http://{auth_emulator}",
            f"http://127.0.0.1:{listener.port}",
            f"http://localhost:{listener.port}",
            f"https://2130706433:{listener.port}",
            f"https://0x7f000001:{listener.port}",
            f"https://127.1:{listener.port}",
        ):
            agent_id, _ = register(stack, owner, target)
            assert_refused(scan(stack, vetting, agent_id), target)
        after = int(watcher.info("stats")["total_connections_received"])
        watcher.close()
    assert after == before, "something other than this test connected to Redis"
    assert listener.accepted == 0


def test_the_probe_reaches_an_agent_the_local_runtime_deployed(
    stack: Stack, people: dict[str, EmulatorUser], vetting: str
) -> None:
    asked: list[str] = []

    async def health(request: Request) -> JSONResponse:
        asked.append(request.url.path)
        return JSONResponse({"status": "ok"})

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    agent_id, tools = register(stack, people["owner"], url)

    async def card(request: Request) -> JSONResponse:
        asked.append(request.url.path)
        return JSONResponse({"name": "probe", "tools": [{"name": name} for name in tools]})

    routes = [Route("/health", health), Route("/.well-known/agent-card.json", card)]
    with serving(Starlette(routes=routes), port):
        # Unknown to the executor's records: refused like any loopback port.
        assert_refused(scan(stack, vetting, agent_id), url)
        assert asked == []
        # What the executor's local runtime writes when it deployed an agent there.
        record = {"agent_id": agent_id, "url": url, "runtime": "local"}
        asyncio.run(_firestore(stack, "put_deployment", agent_id, record))
        checks = scan(stack, vetting, agent_id)
    assert checks["egress"]["status"] == "ok", checks["egress"]
    assert checks["live_probe"]["status"] == "ok", checks["live_probe"]
    assert asked == ["/health", "/.well-known/agent-card.json"]
