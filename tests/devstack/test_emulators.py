"""The local emulator launcher: each emulator works for real, and nothing outlives a stop.

One suite with every emulator is shared by the module (the Auth emulator takes ~15 s to start);
the failure cases start small subsets or nothing at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
import redis
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, firestore, tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agora_devstack import emulators
from agora_devstack.emulators import (
    BQEMULATOR_VENV,
    CLOUDTASKS_MAX_RETRIES,
    EmulatorPorts,
    EmulatorSuite,
    repo_root,
)
from agora_devstack.processes import (
    PortInUseError,
    StartError,
    Supervisor,
    ToolMissingError,
    log_line_ready,
)
from tests.support.servers import serving

pytestmark = pytest.mark.integration


def _gone(pid: int, *, group: bool = False, within: float = 5.0) -> bool:
    """True once no process (or process group) with this id exists; orphans may take a moment."""
    deadline = time.monotonic() + within
    while True:
        try:
            (os.killpg if group else os.kill)(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agora_devstack.emulators", *args]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSuite]:
    logs = tmp_path_factory.mktemp("emulator-logs")
    with EmulatorSuite(EmulatorPorts.free(), project_id="demo-devstack-test", log_dir=logs) as s:
        yield s


def test_env_points_at_the_suite(suite: EmulatorSuite) -> None:
    env = suite.env()
    assert env == {
        "GOOGLE_CLOUD_PROJECT": "demo-devstack-test",
        "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{suite.ports.auth}",
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{suite.ports.firestore}",
        "BIGQUERY_EMULATOR_HOST": f"127.0.0.1:{suite.ports.bigquery}",
        "CLOUD_TASKS_EMULATOR_HOST": f"127.0.0.1:{suite.ports.tasks}",
        "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{suite.ports.storage}",
        "REDIS_URL": f"redis://127.0.0.1:{suite.ports.redis}/0",
    }
    logs = {p.name for p in suite.log_dir.iterdir()}
    expected = {
        "auth.log",
        "bigquery.log",
        "firestore.log",
        "redis.log",
        "storage.log",
        "tasks.log",
    }
    assert logs >= expected


def test_firestore_write_and_read(suite: EmulatorSuite, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in suite.env().items():
        monkeypatch.setenv(key, value)
    client = firestore.Client(project=suite.project_id)
    doc = client.collection(f"devstack-{uuid.uuid4().hex}").document("greeting")
    doc.set({"text": "hello", "n": 1})
    snapshot = doc.get()
    assert snapshot.exists
    assert snapshot.to_dict() == {"text": "hello", "n": 1}


def test_auth_sign_up(suite: EmulatorSuite) -> None:
    url = (
        f"http://127.0.0.1:{suite.ports.auth}"
        "/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key"
    )
    body = {"email": "ada@example.com", "password": "s3cret-pass", "returnSecureToken": True}
    response = httpx.post(url, json=body, timeout=10)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["email"] == "ada@example.com"
    assert data["localId"]
    assert data["idToken"]


def test_bigquery_table_write_and_query(suite: EmulatorSuite) -> None:
    # As the services will: google-cloud-bigquery pointed at http://$BIGQUERY_EMULATOR_HOST.
    client = bigquery.Client(
        project=suite.project_id,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(
            api_endpoint=f"http://{suite.env()['BIGQUERY_EMULATOR_HOST']}"
        ),
    )
    try:
        assert [tuple(row) for row in client.query("SELECT 1 AS n, 'one' AS word").result()] == [
            (1, "one")
        ]
        dataset = client.create_dataset(f"devstack_{uuid.uuid4().hex}")
        schema = [bigquery.SchemaField("agent", "STRING"), bigquery.SchemaField("calls", "INT64")]
        table = client.create_table(bigquery.Table(dataset.table("usage"), schema=schema))
        rows = [{"agent": "genesis", "calls": 3}, {"agent": "quantflow", "calls": 5}]
        assert client.insert_rows_json(table, rows) == []
        query = f"SELECT agent, calls FROM `{table.dataset_id}.usage` ORDER BY calls DESC"  # noqa: S608
        assert [dict(row) for row in client.query(query).result()] == rows[::-1]
        assert dataset.dataset_id in {each.dataset_id for each in client.list_datasets()}
    finally:
        client.close()


@dataclass
class _Receiver:
    """What a task target saw: each request's path, headers and body, in arrival order."""

    status: int = 200
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle(self, request: Request) -> PlainTextResponse:
        self.requests.append((request.url.path, dict(request.headers), await request.body()))
        self.arrived.set()
        return PlainTextResponse("handled", status_code=self.status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])


@pytest.fixture
def tasks_client(suite: EmulatorSuite) -> Iterator[tasks_v2.CloudTasksClient]:
    # As the services will: google-cloud-tasks on an insecure channel to $CLOUD_TASKS_EMULATOR_HOST.
    channel = grpc.insecure_channel(suite.env()["CLOUD_TASKS_EMULATOR_HOST"])
    try:
        yield tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    finally:
        channel.close()


def _new_queue(client: tasks_v2.CloudTasksClient, project_id: str) -> str:
    parent = f"projects/{project_id}/locations/us-central1"
    queue = client.create_queue(
        parent=parent, queue=tasks_v2.Queue(name=f"{parent}/queues/devstack-{uuid.uuid4().hex}")
    )
    assert queue.name in {each.name for each in client.list_queues(parent=parent)}
    return queue.name


def _http_task(url: str, body: bytes, headers: dict[str, str]) -> tasks_v2.Task:
    return tasks_v2.Task(
        http_request=tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST, url=url, headers=headers, body=body
        )
    )


def test_tasks_delivers_an_http_task(
    suite: EmulatorSuite, tasks_client: tasks_v2.CloudTasksClient
) -> None:
    queue = _new_queue(tasks_client, suite.project_id)
    receiver = _Receiver()
    body = json.dumps({"submission": "sub-1"}).encode()
    headers = {"Content-Type": "application/json", "X-Agora-Test": "devstack"}
    with serving(receiver.app()) as base:
        task = tasks_client.create_task(
            parent=queue, task=_http_task(f"{base}/tasks/scan", body, headers)
        )
        assert receiver.arrived.wait(timeout=20), "the task was never delivered"
    assert len(receiver.requests) == 1
    path, seen, received = receiver.requests[0]
    assert path == "/tasks/scan"
    assert received == body
    assert seen["content-type"] == "application/json"
    assert seen["x-agora-test"] == "devstack"
    assert seen["x-cloudtasks-queuename"] == queue
    assert seen["x-cloudtasks-taskname"] == task.name.rsplit("/", 1)[-1]


def test_tasks_gives_up_after_the_retry_cap(
    suite: EmulatorSuite, tasks_client: tasks_v2.CloudTasksClient
) -> None:
    # It retries at once, with no backoff: the cap is what stops a failing handler being hammered.
    queue = _new_queue(tasks_client, suite.project_id)
    receiver = _Receiver(status=500)
    with serving(receiver.app()) as base:
        tasks_client.create_task(parent=queue, task=_http_task(f"{base}/fails", b"{}", {}))
        attempts = 1 + CLOUDTASKS_MAX_RETRIES
        deadline = time.monotonic() + 20
        while len(receiver.requests) < attempts and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # several retry rounds: none may come
    assert len(receiver.requests) == attempts
    assert list(tasks_client.list_tasks(parent=queue)) == []


def test_tasks_listens_on_loopback_only(suite: EmulatorSuite) -> None:
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("needs /proc/net (Linux)")
    port = f"{suite.ports.tasks:04X}"
    listening = []
    for table in tables:
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if local_port == port and state == "0A":  # LISTEN
                listening.append(address)
    # 127.0.0.1, in IPv4 or IPv4-mapped IPv6 form (gRPC binds the latter); never 0.0.0.0 or [::].
    assert listening
    assert set(listening) <= {"0100007F", "0000000000000000FFFF00000100007F"}, listening


def test_redis_set_and_get(suite: EmulatorSuite) -> None:
    client = redis.Redis.from_url(suite.env()["REDIS_URL"])
    try:
        assert client.set("devstack:key", "value")
        assert client.get("devstack:key") == b"value"
    finally:
        client.close()


def test_taken_port_is_refused_before_starting(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = EmulatorPorts.free()
        suite = EmulatorSuite(dataclasses.replace(ports, hub=port), log_dir=tmp_path)
        with pytest.raises(PortInUseError, match=rf"port {port} .*Firebase Auth emulator \(hub\)"):
            suite.start()
        assert suite.children == {}  # nothing was started


def test_cli_taken_port_exits_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        args = ["--only", "redis", "--redis-port", str(port), "--log-dir", str(tmp_path)]
        result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0]
    assert "Redis" in lines[0]
    assert "already in use" in lines[0]


def test_missing_node_modules_says_make_install(tmp_path: Path) -> None:
    suite = EmulatorSuite(
        EmulatorPorts.free(),
        log_dir=tmp_path / "logs",
        only={"firestore"},
        node_modules=tmp_path / "no-node-modules",
    )
    with pytest.raises(ToolMissingError, match=r"run `make install`"):
        suite.start()

    args = ["--only", "auth", "--node-modules", str(tmp_path / "nothing-here")]
    args += ["--log-dir", str(tmp_path / "cli-logs")]
    ports = EmulatorPorts.free()
    args += ["--auth-port", str(ports.auth), "--hub-port", str(ports.hub)]
    args += ["--logging-port", str(ports.logging)]
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "firebase-tools" in result.stderr
    assert "run `make install`" in result.stderr


def test_missing_bigquery_emulator_says_make_install(tmp_path: Path) -> None:
    missing = tmp_path / "no-bqemulator-venv"
    suite = EmulatorSuite(
        EmulatorPorts.free(), log_dir=tmp_path / "logs", only={"bigquery"}, bqemulator_venv=missing
    )
    with pytest.raises(ToolMissingError, match=r"bqemulator.*; run `make install`$"):
        suite.start()
    assert suite.children == {}

    # A venv whose sync never finished (no bqemulator in it) counts as missing too.
    (missing / "bin").mkdir(parents=True)
    (missing / "bin" / "python").symlink_to(sys.executable)
    ports = EmulatorPorts.free()
    args = ["--only", "bigquery", "--bqemulator-venv", str(missing)]
    args += [
        "--bigquery-port",
        str(ports.bigquery),
        "--bigquery-grpc-port",
        str(ports.bigquery_grpc),
    ]
    args += ["--log-dir", str(tmp_path / "cli-logs")]
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "BigQuery emulator (bqemulator) is not installed" in result.stderr
    assert "run `make install`" in result.stderr


def test_missing_cloud_tasks_emulator_says_make_install(tmp_path: Path) -> None:
    missing = tmp_path / "no-cloudtasks-venv"
    suite = EmulatorSuite(
        EmulatorPorts.free(), log_dir=tmp_path / "logs", only={"tasks"}, cloudtasks_venv=missing
    )
    with pytest.raises(ToolMissingError, match=r"gcloud-tasks-emulator.*; run `make install`$"):
        suite.start()
    assert suite.children == {}

    # A venv whose sync never finished (no gcloud-tasks-emulator in it) counts as missing too.
    (missing / "bin").mkdir(parents=True)
    (missing / "bin" / "python").symlink_to(sys.executable)
    args = ["--only", "tasks", "--cloudtasks-venv", str(missing)]
    args += ["--tasks-port", str(EmulatorPorts.free().tasks)]
    args += ["--log-dir", str(tmp_path / "cli-logs")]
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Cloud Tasks emulator (gcloud-tasks-emulator) is not installed" in result.stderr
    assert "run `make install`" in result.stderr


def test_bigquery_starts_without_the_spatial_extension(tmp_path: Path) -> None:
    """Offline, DuckDB cannot download its spatial extension; the emulator must start anyway."""
    python = repo_root() / BQEMULATOR_VENV / "bin" / "python"
    script = Path(emulators.__file__).with_name("bqemulator_start.py")
    probe = f"""
import runpy
from bqemulator.storage import engine

def offline(self):
    raise RuntimeError("IO Error: Failed to download extension spatial")

engine.DuckDBEngine._load_spatial = offline
runpy.run_path({str(script)!r})["_make_spatial_optional"]()
engine.DuckDBEngine._load_spatial(object())
print("started")
"""
    result = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    note, started = result.stdout.strip().splitlines()
    assert json.loads(note)["event"] == "agora.spatial_skipped"
    assert "Failed to download extension spatial" in json.loads(note)["error"]
    assert started == "started"


def test_missing_redis_server_says_how_to_install(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin)}
    port = EmulatorPorts.free().redis
    args = ["--only", "redis", "--redis-port", str(port), "--log-dir", str(tmp_path / "logs")]
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "redis-server not found" in result.stderr
    assert "apt-get install redis-server" in result.stderr


def test_cli_sigint_leaves_no_process_behind(tmp_path: Path) -> None:
    ports = EmulatorPorts.free()
    args = [
        f"--{name.replace('_', '-')}-port={getattr(ports, name)}"
        for name in EmulatorPorts.__dataclass_fields__
    ]
    args += ["--log-dir", str(tmp_path), "--project", "demo-devstack-cli"]
    process = subprocess.Popen(
        _cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:  # the banner ends once every emulator is ready
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        else:
            pytest.fail(f"CLI ended before it was ready: {''.join(banner)} {process.stderr}")
        assert f"  export FIRESTORE_EMULATOR_HOST=127.0.0.1:{ports.firestore}\n" in banner
        pids = json.loads((tmp_path / "emulators.pids.json").read_text())
        assert set(pids) == {"auth", "bigquery", "firestore", "redis", "storage", "tasks"}
        for entry in pids.values():
            assert not _gone(entry["pid"], within=0)

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            # SIGTERM lets the CLI stop its emulators; SIGKILL would orphan them.
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out
    for name, entry in pids.items():
        assert _gone(entry["pid"]), f"{name} (pid {entry['pid']}) is still alive"
        assert _gone(entry["pgid"], group=True), f"{name}'s process group is still alive"
    assert not (tmp_path / "emulators.pids.json").exists()


def test_child_that_dies_early_names_its_log(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        script = "echo starting; echo 'fatal: no config' >&2; exit 3"
        with pytest.raises(StartError) as raised:
            supervisor.start("boom", ["sh", "-c", script], ready=log_line_ready("never"))
    message = str(raised.value)
    assert "boom exited with code 3 before it was ready" in message
    assert str(tmp_path / "boom.log") in message
    assert "fatal: no config" in message


def test_stop_kills_the_whole_tree(tmp_path: Path) -> None:
    # A leader that ignores SIGTERM, a grandchild in its group and one that left it via setsid.
    script = "trap '' TERM; sleep 300 & setsid sleep 301 & echo up; wait"
    with Supervisor(tmp_path, grace=0.5) as supervisor:
        child = supervisor.start("tree", ["sh", "-c", script], ready=log_line_ready("up"))
        time.sleep(0.2)  # let both sleeps start
        tree = _descendant_pids(child.pid)
        assert len(tree) >= 2
    assert not child.alive()
    for pid in [child.pid, *tree]:
        assert _gone(pid), f"pid {pid} is still alive"


def _descendant_pids(root: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    pairs = [tuple(map(int, line.split())) for line in out.stdout.splitlines()]
    found, frontier = [], [root]
    while frontier:
        frontier = [pid for pid, ppid in pairs if ppid in frontier]
        found += frontier
    return found


# Runs last: it stops the module's shared suite.
def test_stop_leaves_no_process_behind(suite: EmulatorSuite) -> None:
    children = list(suite.children.values())
    names = {child.name for child in children}
    assert names == {"auth", "bigquery", "firestore", "redis", "storage", "tasks"}
    assert all(child.alive() for child in children)
    suite.stop()
    suite.stop()  # idempotent
    for child in children:
        assert _gone(child.pid), f"{child.name} (pid {child.pid}) is still alive"
        assert _gone(child.pgid, group=True), f"{child.name}'s process group is still alive"
        assert not child.alive()
