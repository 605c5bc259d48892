"""LocalRuntime with real processes: throwaway stdlib agents written to a temporary agents root."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_executor.runtime import DeployFailed, DeploySpec, LocalConfig, LocalRuntime
from agora_executor.runtime.local import default_guard

# Process checks read /proc.
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

SECRET = "local-s3cr3t-agent-signing-key"

ECHO_AGENT = """
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if os.environ.get("ECHO_IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = 404, {}
        if self.path == "/health":
            status, body = int(os.environ.get("ECHO_HEALTH_STATUS", "200")), {"pid": os.getpid()}
        elif self.path == "/env":
            status, body = 200, dict(os.environ)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


print("echoagent listening on", os.environ["PORT"])
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

CRASH_AGENT = """
import os, sys
print("starting with secret", os.environ["AGORA_AGENT_SECRET"])
print("boom: cannot load the model")
sys.exit(3)
"""

# An agent on the SDK with no host setting of its own, as the repository's agents are.
SDK_AGENT = """
from pydantic import BaseModel

from agora_agent_sdk import Agent

agent = Agent(name="Bound", description="Where does it listen?", version="1.0.0")


class Nothing(BaseModel):
    pass


@agent.tool(description="Does nothing")
def noop(payload: Nothing) -> dict:
    return {}


agent.serve()
"""

PARENT_SCRIPT = """
import asyncio, sys
from pathlib import Path

import httpx

from agora_executor.runtime import DeploySpec, LocalConfig, LocalRuntime


async def main() -> None:
    root, logs, guard = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    async with httpx.AsyncClient(trust_env=False) as http:
        runtime = LocalRuntime(LocalConfig(agents_root=root, log_dir=logs, guard=guard), http)
        deployment = await runtime.deploy(DeploySpec("a1", "orphan", source="agents/echoagent"))
        print(runtime.pid_of("orphan"), deployment.url, flush=True)
        await asyncio.sleep(3600)


asyncio.run(main())
"""


def write_agent(root: Path, dirname: str, code: str) -> None:
    """An agent package at <root>/<dirname>/src/agora_<dirname>/__main__.py."""
    package = root / dirname / "src" / f"agora_{dirname}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(code))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo-like tree: agents/{echoagent,crashagent}, plus things agents must not reach."""
    base = tmp_path_factory.mktemp("repo")
    root = base / "agents"
    write_agent(root, "echoagent", ECHO_AGENT)
    write_agent(root, "crashagent", CRASH_AGENT)
    write_agent(root, "sdkagent", SDK_AGENT)
    write_agent(base / "outside", "sneaky", ECHO_AGENT)
    (root / "escape").symlink_to(base / "outside" / "sneaky")
    (root / "README.md").write_text("not an agent")
    (root / "Bad.Name").mkdir()
    return base


def make_config(workspace: Path, **overrides: Any) -> LocalConfig:
    values: dict[str, Any] = {
        "agents_root": workspace / "agents",
        "log_dir": workspace / "logs",
        "start_timeout_s": 15.0,
        "grace_s": 1.0,
    }
    values.update(overrides)
    return LocalConfig(**values)


def make_spec(hash_id: str = "HashEcho1", **overrides: Any) -> DeploySpec:
    values: dict[str, Any] = {
        "agent_id": f"id-{hash_id}",
        "hash_id": hash_id,
        "source": "agents/echoagent",
        "env": {"AGORA_AGENT_HASH_ID": hash_id, "AGORA_AGENT_SECRET": SECRET},
    }
    values.update(overrides)
    return DeploySpec(**values)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        yield client


@pytest.fixture
async def runtime(workspace: Path, http: httpx.AsyncClient) -> AsyncIterator[LocalRuntime]:
    local = LocalRuntime(make_config(workspace), http)
    yield local
    await local.aclose()


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process is in process group pgid (from /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, _ppid, group = text[text.rfind(")") + 2 :].split()[:3]
        if int(group) == pgid and state not in "ZX":
            return True
    return False


def wait_gone(pgid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_deploy_serves_health_with_the_given_env(
    runtime: LocalRuntime, http: httpx.AsyncClient, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_EXECUTOR_LEAK_CHECK", "executor-only")

    deployment = await runtime.deploy(make_spec())

    assert deployment.runtime == "local"
    assert deployment.url.startswith("http://127.0.0.1:")
    assert (await http.get(f"{deployment.url}/health")).status_code == 200
    env = (await http.get(f"{deployment.url}/env")).json()
    assert env["AGORA_AGENT_SECRET"] == SECRET
    assert env["AGORA_AGENT_HASH_ID"] == "HashEcho1"
    assert env["AGORA_AGENT_PUBLIC_URL"] == deployment.url
    assert env["PORT"] == deployment.url.rsplit(":", 1)[1]
    assert "AGORA_EXECUTOR_LEAK_CHECK" not in env  # a minimal base, not the executor's env
    (log,) = (workspace / "logs").glob("agent-hashecho1-*.log")
    assert log.stat().st_mode & 0o077 == 0
    assert "echoagent listening on" in log.read_text()


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on, read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, size in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            raw, port = local.split(":")
            # The kernel prints each 32-bit word in host order.
            words = bytes.fromhex(raw)
            packed = b"".join(words[i : i + 4][::-1] for i in range(0, size, 4))
            found.add((str(ipaddress.ip_address(packed)), int(port, 16)))
    return found


async def test_agents_listen_on_loopback_only(runtime: LocalRuntime) -> None:
    # An agent's own env asking for every interface is overruled too.
    env = {"AGORA_AGENT_HOST": "0.0.0.0", "AGORA_AGENT_HASH_ID": "HashBound1"}  # noqa: S104
    spec = make_spec("HashBound1", source="agents/sdkagent", env=env)

    deployment = await runtime.deploy(spec)

    pid = runtime.pid_of("HashBound1")
    assert pid is not None
    port = int(deployment.url.rsplit(":", 1)[1])
    assert listening_addresses(pid) == {("127.0.0.1", port)}


def test_a_local_runtime_refuses_to_listen_beyond_loopback(workspace: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.2", "localhost"):  # noqa: S104 - refused, never bound
        with pytest.raises(ValueError, match="loopback"):
            make_config(workspace, host=host)
    assert make_config(workspace, host="127.0.0.2").host == "127.0.0.2"


async def test_an_absolute_source_under_the_root_is_accepted(
    runtime: LocalRuntime, workspace: Path
) -> None:
    source = str(workspace / "agents" / "echoagent")
    assert (await runtime.deploy(make_spec(source=source))).url


async def test_redeploy_replaces_the_process(
    runtime: LocalRuntime, http: httpx.AsyncClient
) -> None:
    first = await runtime.deploy(make_spec())
    first_pid = runtime.pid_of("HashEcho1")
    second = await runtime.deploy(make_spec())
    second_pid = runtime.pid_of("HashEcho1")

    assert first_pid and second_pid and first_pid != second_pid
    assert wait_gone(first_pid)
    assert (await http.get(f"{second.url}/health")).status_code == 200
    if first.url != second.url:
        with pytest.raises(httpx.TransportError):
            await http.get(f"{first.url}/health")


def endpoint(url: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return ipaddress.ip_address(host), int(port)


async def test_a_staged_revision_serves_beside_the_previous_one_until_committed(
    runtime: LocalRuntime, http: httpx.AsyncClient
) -> None:
    first = await runtime.deploy(make_spec())
    first_pid = runtime.pid_of("HashEcho1")
    staged = await runtime.stage(make_spec())

    assert staged.url != first.url
    assert runtime.pid_of("HashEcho1") == first_pid  # still the serving one
    for url in (first.url, staged.url):  # both answer, and egress admits both
        assert (await http.get(f"{url}/health")).status_code == 200
        assert await runtime.admits(*endpoint(url))

    await runtime.commit("id-HashEcho1", "HashEcho1")

    assert first_pid and runtime.pid_of("HashEcho1") not in (None, first_pid)
    assert wait_gone(first_pid)
    assert not await runtime.admits(*endpoint(first.url))
    assert (await http.get(f"{staged.url}/health")).status_code == 200


async def test_a_discarded_redeploy_leaves_the_previous_revision_serving(
    runtime: LocalRuntime, http: httpx.AsyncClient
) -> None:
    """A new revision that failed its probe goes; the one it was to replace is the agent still."""
    first = await runtime.deploy(make_spec())
    first_pid = runtime.pid_of("HashEcho1")
    staged = await runtime.stage(make_spec())
    staged_pid = int((await http.get(f"{staged.url}/health")).json()["pid"])

    await runtime.discard("id-HashEcho1", "HashEcho1")

    assert wait_gone(staged_pid)
    assert runtime.pid_of("HashEcho1") == first_pid
    assert (await http.get(f"{first.url}/health")).status_code == 200
    assert await runtime.admits(*endpoint(first.url))
    assert not await runtime.admits(*endpoint(staged.url))
    await runtime.commit("id-HashEcho1", "HashEcho1")  # nothing staged: nothing changes
    assert runtime.pid_of("HashEcho1") == first_pid


async def test_undeploy_stops_a_staged_revision_too(runtime: LocalRuntime) -> None:
    await runtime.deploy(make_spec())
    pid = runtime.pid_of("HashEcho1")
    staged = await runtime.stage(make_spec())

    await runtime.undeploy("id-HashEcho1", "HashEcho1")

    assert pid and wait_gone(pid)
    assert not await runtime.admits(*endpoint(staged.url))
    await runtime.commit("id-HashEcho1", "HashEcho1")
    assert runtime.pid_of("HashEcho1") is None


async def test_undeploy_stops_the_agent_and_is_idempotent(runtime: LocalRuntime) -> None:
    await runtime.deploy(make_spec())
    pid = runtime.pid_of("HashEcho1")
    assert pid

    await runtime.undeploy("id-HashEcho1", "HashEcho1")
    await runtime.undeploy("id-HashEcho1", "HashEcho1")

    assert runtime.pid_of("HashEcho1") is None
    assert wait_gone(pid, timeout_s=1.0)


async def test_aclose_kills_everything_even_an_agent_that_ignores_sigterm(
    workspace: Path, http: httpx.AsyncClient
) -> None:
    runtime = LocalRuntime(make_config(workspace, grace_s=0.5), http)
    stubborn_env = {"ECHO_IGNORE_TERM": "1", "AGORA_AGENT_SECRET": SECRET}
    await runtime.deploy(make_spec("one"))
    await runtime.deploy(make_spec("two"))
    await runtime.deploy(make_spec("stubborn", env=stubborn_env))
    pids = [runtime.pid_of(name) for name in ("one", "two", "stubborn")]

    started = time.monotonic()
    await runtime.aclose()

    assert all(pid and wait_gone(pid, timeout_s=1.0) for pid in pids)
    assert time.monotonic() - started < 5.0  # grace periods overlap, SIGKILL after 0.5 s


@pytest.mark.parametrize(
    "source",
    [
        None,
        "",
        "agents/missing",
        "agents/../outside/sneaky",
        "outside/sneaky",
        "/etc",
        "agents/escape",  # a symlink inside the root pointing outside it
        "agents/echoagent/src",  # not directly under the root
        "agents/README.md",
        "agents/Bad.Name",
        "agents",
    ],
)
async def test_sources_outside_the_root_are_refused(
    runtime: LocalRuntime, source: str | None
) -> None:
    with pytest.raises(DeployFailed):
        await runtime.deploy(make_spec(source=source))
    assert runtime.pid_of("HashEcho1") is None


async def test_an_absolute_path_outside_the_root_is_refused(
    runtime: LocalRuntime, workspace: Path
) -> None:
    with pytest.raises(DeployFailed, match="directly under the agents root"):
        await runtime.deploy(make_spec(source=str(workspace / "outside" / "sneaky")))


async def test_a_crashing_agent_fails_fast_with_its_log_tail_scrubbed(
    runtime: LocalRuntime,
) -> None:
    started = time.monotonic()
    with pytest.raises(DeployFailed, match="exited with code 3") as caught:
        await runtime.deploy(make_spec("crash", source="agents/crashagent"))

    assert time.monotonic() - started < 5.0
    message = caught.value.message
    assert "boom: cannot load the model" in message
    assert SECRET not in message
    assert "[redacted]" in message
    assert runtime.pid_of("crash") is None


async def test_an_agent_never_healthy_fails_at_the_deadline_and_is_stopped(
    workspace: Path, http: httpx.AsyncClient
) -> None:
    runtime = LocalRuntime(make_config(workspace, start_timeout_s=1.0), http)
    spec = make_spec("sick", env={"ECHO_HEALTH_STATUS": "503"})
    try:
        with pytest.raises(DeployFailed, match=r"was not healthy within 1 s"):
            await runtime.deploy(spec)
        assert runtime.pid_of("sick") is None
    finally:
        await runtime.aclose()


def test_an_unknown_guard_is_refused(workspace: Path, http: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="guard"):
        LocalRuntime(make_config(workspace, guard="hope"), http)


@pytest.mark.parametrize(
    "guard",
    [
        pytest.param(
            "pdeathsig",
            marks=pytest.mark.skipif(sys.platform != "linux", reason="prctl is Linux only"),
        ),
        "watchdog",
    ],
)
def test_agents_die_with_a_killed_executor(workspace: Path, tmp_path: Path, guard: str) -> None:
    """SIGKILL the process that deployed an agent: nothing of the agent may linger."""
    script = tmp_path / "executor.py"
    script.write_text(PARENT_SCRIPT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(workspace / "agents"), str(tmp_path / "logs"), guard],
        stdout=subprocess.PIPE,
        text=True,
    )
    pid = 0
    try:
        assert parent.stdout is not None
        pid_text, url = parent.stdout.readline().split()
        pid = int(pid_text)
        assert httpx.get(f"{url}/health", trust_env=False).status_code == 200
        assert group_alive(pid)

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)

        assert wait_gone(pid), f"agent group {pid} outlived its executor ({guard})"
    finally:
        parent.kill()
        parent.wait(timeout=10)
        if pid and group_alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_the_default_guard_is_the_kernels_on_linux() -> None:
    assert default_guard() == ("pdeathsig" if sys.platform == "linux" else "watchdog")
