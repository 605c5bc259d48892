"""`make dev`'s runner for real: the whole fleet up on free ports, wired, and stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from agora_common.settings import service_account_email
from agora_devstack.emulators import EMULATORS
from agora_devstack.fleet import SERVICES
from tests.support.factories import signer_for

pytestmark = pytest.mark.integration
UV = shutil.which("uv") or "uv"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    log_dir = tmp_path_factory.mktemp("fleet-logs")
    process = subprocess.Popen(
        # As `make dev` runs it: via `uv run`, which forwards Ctrl-C to the runner a second time.
        [
            UV,
            "run",
            "--frozen",
            "python",
            "-m",
            "agora_devstack.fleet",
            "--free-ports",
            "--log-dir",
            str(log_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    state_file = log_dir / "fleet.json"
    deadline = time.monotonic() + 120
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the fleet did not start:\n{process.stdout.read()}")  # type: ignore[union-attr]
        time.sleep(0.2)
    state = json.loads(state_file.read_text())
    state["process"] = process
    yield state
    if process.poll() is None:  # a test failed before Ctrl-C: stop it the graceful way first
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_every_service_is_live_and_ready(fleet: dict[str, Any]) -> None:
    assert set(fleet["services"]) == set(SERVICES)
    for name, url in fleet["services"].items():
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}, name
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200, (name, ready.text)
        assert set(ready.json()["checks"].values()) <= {"ok"}


def test_the_demo_accounts_can_sign_in(fleet: dict[str, Any]) -> None:
    auth = fleet["emulators"]["FIREBASE_AUTH_EMULATOR_HOST"]
    url = f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo"
    claims = {}
    for email in ("admin@agora.local", "user@agora.local"):
        body = {"email": email, "password": "agora-demo", "returnSecureToken": True}
        token = httpx.post(url, json=body).json()["idToken"]
        claims[email] = jwt.decode(token, options={"verify_signature": False})
    assert claims["admin@agora.local"].get("admin") is True
    assert "admin" not in claims["user@agora.local"]


def test_services_reach_their_peers_with_their_own_identity(fleet: dict[str, Any]) -> None:
    signer = signer_for(Path(fleet["dev_key_file"]), "gateway", fleet["project_id"])
    executor = fleet["services"]["executor"]
    response = httpx.get(
        f"{executor}/internal/peers", headers={"authorization": f"Bearer {signer.sign(executor)}"}
    )
    assert response.status_code == 200, response.text
    identity = service_account_email("executor", fleet["project_id"])
    assert response.json() == {
        peer: {"status": 200, "seen_as": identity} for peer in ("analytics", "auth", "registry")
    }


def test_the_demo_agents_are_deployed_and_executable(fleet: dict[str, Any]) -> None:
    """What the banner's curl does: the demo user prices an option with QuantFlow."""
    auth = fleet["emulators"]["FIREBASE_AUTH_EMULATOR_HOST"]
    url = f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo"
    body = {"email": "user@agora.local", "password": "agora-demo", "returnSecureToken": True}
    token = httpx.post(url, json=body).json()["idToken"]
    assert set(fleet["agents"]) == {"genesis", "quantflow"}
    execution = {
        "agent_id": fleet["agents"]["quantflow"]["id"],
        "tool_name": "black_scholes",
        "payload": {
            "spot": 100,
            "strike": 100,
            "time_to_expiry": 1,
            "rate": 0.05,
            "volatility": 0.2,
        },
    }
    response = httpx.post(
        f"{fleet['services']['gateway']}/api/v1/agents/execute",
        json=execution,
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert round(response.json()["result"]["call"]["price"], 4) == 10.4506
    for agent in fleet["agents"].values():
        assert httpx.get(f"{agent['url']}/health").status_code == 200


def test_ctrl_c_stops_every_process(fleet: dict[str, Any]) -> None:
    """Runs last in this module: it stops the shared fleet."""
    process: subprocess.Popen[str] = fleet["process"]
    pids = [entry["pid"] for entry in fleet["pids"].values()]
    assert "service:console" in fleet["pids"]
    assert len(pids) == len(SERVICES) + len(EMULATORS) + 1  # and the console
    assert all(_alive(pid) for pid in pids)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    process.wait(timeout=30)
    output = process.stdout.read()  # type: ignore[union-attr]
    assert "Stopping..." in output
    assert "Traceback" not in output
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if _alive(pid)] == []
    for agent in fleet["agents"].values():  # the agents the executor started went with it
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{agent['url']}/health", timeout=2)


def test_a_taken_service_port_is_one_clear_line(tmp_path: Path) -> None:
    """Checked before anything starts, so nothing is left half-started."""
    import socket

    from agora_devstack.emulators import EmulatorPorts
    from agora_devstack.fleet import Fleet
    from agora_devstack.processes import PortInUseError, free_ports

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        ports["executor"] = taken
        fleet = Fleet(service_ports=ports, emulator_ports=EmulatorPorts.free(), log_dir=tmp_path)
        with pytest.raises(PortInUseError, match=f"port {taken} .* executor service"):
            fleet.start()
        assert fleet.emulators.children == {}
