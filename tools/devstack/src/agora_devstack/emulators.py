"""Local emulator launcher: Firebase Auth, Firestore, BigQuery, Cloud Tasks and Redis on 127.0.0.1.

For dev runs and tests: `make emulators` runs `python -m agora_devstack.emulators`; `make dev` and
the pytest session use EmulatorSuite. Each emulator is one entry of EMULATORS, so adding one means
one more port field on EmulatorPorts and one more EmulatorSpec.

Stand-ins: the Auth emulator of firebase-tools, the open-source Node Firestore emulator
(@firestore-emulator/server, started by firestore_emulator.mjs next to this file), the open-source
BigQuery emulator bqemulator (DuckDB + SQLGlot; REST and gRPC, started by bqemulator_start.py next
to this file), the open-source Cloud Tasks emulator gcloud-tasks-emulator (gRPC, started by
cloudtasks_start.py next to this file) and redis-server. The Node packages are pinned in the
repository's package.json; bqemulator and gcloud-tasks-emulator each have an environment of their
own, pinned by tools/bqemulator/uv.lock and tools/cloudtasks/uv.lock, as their dependencies clash
with the workspace's. `make install` installs all three. Clients reach the BigQuery emulator through
BIGQUERY_EMULATOR_HOST (host:port of its REST API, served over plain http) and the Cloud Tasks
emulator through CLOUD_TASKS_EMULATOR_HOST (host:port of its gRPC API, without TLS: a
google-cloud-tasks client on grpc.insecure_channel(it)).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Self

from agora_devstack.processes import (
    Child,
    ReadyCheck,
    StartError,
    Supervisor,
    SupervisorError,
    ToolMissingError,
    all_ready,
    ensure_port_free,
    free_ports,
    log_line_ready,
    tcp_ready,
)

__all__ = [
    "BQEMULATOR_VENV",
    "CLOUDTASKS_MAX_RETRIES",
    "CLOUDTASKS_VENV",
    "EMULATORS",
    "EmulatorPorts",
    "EmulatorSpec",
    "EmulatorSuite",
    "Launch",
    "RunContext",
    "main",
    "repo_root",
]

HOST = "127.0.0.1"
PID_FILE_NAME = "emulators.pids.json"
_FIRESTORE_SCRIPT = Path(__file__).with_name("firestore_emulator.mjs")
_BQEMULATOR_SCRIPT = Path(__file__).with_name("bqemulator_start.py")
# The BigQuery emulator's own environment, relative to the repository root (`make install`).
BQEMULATOR_VENV = Path("tools", "bqemulator", ".venv")
_CLOUDTASKS_SCRIPT = Path(__file__).with_name("cloudtasks_start.py")
# The Cloud Tasks emulator's own environment, relative to the repository root (`make install`).
CLOUDTASKS_VENV = Path("tools", "cloudtasks", ".venv")
# Attempts after the first before the Cloud Tasks emulator drops a failing task. It retries at once,
# with no backoff: uncapped, one failing handler would be called in a tight loop forever.
CLOUDTASKS_MAX_RETRIES = 3


@cache
def repo_root() -> Path:
    """The repository root: the package's nearest ancestor with firebase.json, else git's."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "firebase.json").is_file() and (parent / "pyproject.toml").is_file():
            return parent
    # Installed outside the repository (not editable): fall back to the checkout we are run from.
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 - git from PATH is intended
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return Path.cwd()
    return Path(top)


@dataclass(frozen=True)
class EmulatorPorts:
    """TCP ports on 127.0.0.1; the defaults match the repository's firebase.json (`make dev`)."""

    firestore: int = 8200
    auth: int = 9099
    redis: int = 6379
    # The Firebase emulator hub and logging emulator come with the Auth emulator; parallel runs
    # collide on them unless they move too.
    hub: int = 4400
    logging: int = 4500
    # BigQuery: REST (what clients use) and gRPC (the Storage Read/Write APIs).
    bigquery: int = 9050
    bigquery_grpc: int = 9060
    # Cloud Tasks: gRPC.
    tasks: int = 8123

    @classmethod
    def free(cls) -> EmulatorPorts:
        """All ports picked free by the OS (for tests that run side by side)."""
        return cls(*free_ports(len(fields(cls)), HOST))


@dataclass(frozen=True)
class RunContext:
    """What an emulator spec needs to know about this run."""

    ports: EmulatorPorts
    project_id: str
    node_modules: Path
    state_dir: Path
    bqemulator_venv: Path = field(default_factory=lambda: repo_root() / BQEMULATOR_VENV)
    cloudtasks_venv: Path = field(default_factory=lambda: repo_root() / CLOUDTASKS_VENV)


@dataclass(frozen=True)
class Launch:
    """How to start one emulator."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None = None


@dataclass(frozen=True)
class EmulatorSpec:
    """One emulator: its ports, how to start it, when it is ready and the env clients need."""

    name: str
    label: str
    port_fields: tuple[str, ...]  # EmulatorPorts fields it binds; the first is the client port
    launch: Callable[[RunContext], Launch]  # raises ToolMissingError with an install hint
    ready: Callable[[RunContext], ReadyCheck]
    env: Callable[[RunContext], dict[str, str]]
    timeout: float  # seconds to wait for readiness

    def port(self, ports: EmulatorPorts) -> int:
        """Its client port."""
        return int(getattr(ports, self.port_fields[0]))


def _require_node(ctx: RunContext, package: str, marker: str) -> str:
    """Path of node, after checking that `package` is installed in node_modules."""
    node = shutil.which("node")
    if node is None:
        raise ToolMissingError(
            "node not found on PATH; install Node.js 20, then run `make install`"
        )
    if not (ctx.node_modules / marker).exists():
        raise ToolMissingError(
            f"npm package {package} not found in {ctx.node_modules}; run `make install`"
        )
    return node


# --- Firebase Auth emulator (firebase-tools) ------------------------------------------------------


def _auth_launch(ctx: RunContext) -> Launch:
    _require_node(ctx, "firebase-tools", "firebase-tools/package.json")
    firebase = ctx.node_modules / ".bin" / "firebase"
    # The ports vary per run, so the CLI gets a generated config rather than the repo's
    # firebase.json. The UI must be off: it would be downloaded, which fails offline.
    config = {
        "emulators": {
            "ui": {"enabled": False},
            "auth": {"host": HOST, "port": ctx.ports.auth},
            "hub": {"host": HOST, "port": ctx.ports.hub},
            "logging": {"host": HOST, "port": ctx.ports.logging},
            "singleProjectMode": True,
        }
    }
    config_path = ctx.state_dir / "firebase.json"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    argv = [str(firebase), "emulators:start", "--only", "auth", "--project", ctx.project_id]
    argv += ["--config", str(config_path)]
    env = {
        # The hub writes a locator file named after the project into the temp dir; a private
        # temp dir keeps parallel runs with the same project id apart.
        "TMPDIR": str(ctx.state_dir),
        "NO_UPDATE_NOTIFIER": "1",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    # cwd in the state dir: firebase-debug.log lands there rather than in the repository.
    return Launch(argv=argv, env=env, cwd=ctx.state_dir)


def _auth_ready(ctx: RunContext) -> ReadyCheck:
    return all_ready(log_line_ready("All emulators ready"), tcp_ready(HOST, ctx.ports.auth))


def _auth_env(ctx: RunContext) -> dict[str, str]:
    return {"FIREBASE_AUTH_EMULATOR_HOST": f"{HOST}:{ctx.ports.auth}"}


# --- Firestore emulator (@firestore-emulator/server) ----------------------------------------------


def _firestore_launch(ctx: RunContext) -> Launch:
    node = _require_node(ctx, "@firestore-emulator/server", "@firestore-emulator/server")
    argv = [node, str(_FIRESTORE_SCRIPT), "--node-modules", str(ctx.node_modules)]
    argv += ["--host", HOST, "--port", str(ctx.ports.firestore)]
    return Launch(argv=argv, env={})


def _firestore_ready(ctx: RunContext) -> ReadyCheck:
    return all_ready(
        log_line_ready("firestore emulator ready on"), tcp_ready(HOST, ctx.ports.firestore)
    )


def _firestore_env(ctx: RunContext) -> dict[str, str]:
    return {"FIRESTORE_EMULATOR_HOST": f"{HOST}:{ctx.ports.firestore}"}


# --- BigQuery emulator (bqemulator, in its own environment) ---------------------------------------


def _bigquery_launch(ctx: RunContext) -> Launch:
    python = ctx.bqemulator_venv / "bin" / "python"
    # Its console script marks a completed install: the venv may exist with the sync unfinished.
    if not (python.exists() and (ctx.bqemulator_venv / "bin" / "bqemulator").exists()):
        raise ToolMissingError(
            f"the BigQuery emulator (bqemulator) is not installed in {ctx.bqemulator_venv}; "
            "run `make install`"
        )
    argv = [str(python), str(_BQEMULATOR_SCRIPT), "start", "--project", ctx.project_id]
    argv += ["--rest-host", HOST, "--rest-port", str(ctx.ports.bigquery)]
    argv += ["--grpc-host", HOST, "--grpc-port", str(ctx.ports.bigquery_grpc)]
    # In memory: every run starts empty. JSON logs: the readiness check reads them.
    argv += ["--ephemeral", "--log-format", "json", "--log-level", "info"]
    # cwd in the state dir: bqemulator reads a .bqemu.toml from its working directory.
    return Launch(argv=argv, env={}, cwd=ctx.state_dir)


def _bigquery_ready(ctx: RunContext) -> ReadyCheck:
    return all_ready(
        log_line_ready(r'"event":\s*"rest\.listen"'),
        tcp_ready(HOST, ctx.ports.bigquery),
        tcp_ready(HOST, ctx.ports.bigquery_grpc),
    )


def _bigquery_env(ctx: RunContext) -> dict[str, str]:
    # google-cloud-bigquery has no emulator variable of its own: the services read this one and
    # point the client's api_endpoint at http://<it>.
    return {"BIGQUERY_EMULATOR_HOST": f"{HOST}:{ctx.ports.bigquery}"}


# --- Cloud Tasks emulator (gcloud-tasks-emulator, in its own environment) -------------------------


def _tasks_launch(ctx: RunContext) -> Launch:
    python = ctx.cloudtasks_venv / "bin" / "python"
    # Its console script marks a completed install: the venv may exist with the sync unfinished.
    if not (python.exists() and (ctx.cloudtasks_venv / "bin" / "gcloud-tasks-emulator").exists()):
        raise ToolMissingError(
            f"the Cloud Tasks emulator (gcloud-tasks-emulator) is not installed in "
            f"{ctx.cloudtasks_venv}; run `make install`"
        )
    argv = [str(python), str(_CLOUDTASKS_SCRIPT), "--host", HOST, "--port", str(ctx.ports.tasks)]
    argv += ["--max-retries", str(CLOUDTASKS_MAX_RETRIES)]
    # In memory, as the others: every run starts with no queue; services create theirs.
    return Launch(argv=argv, env={}, cwd=ctx.state_dir)


def _tasks_ready(ctx: RunContext) -> ReadyCheck:
    return all_ready(
        log_line_ready("cloud tasks emulator ready on"), tcp_ready(HOST, ctx.ports.tasks)
    )


def _tasks_env(ctx: RunContext) -> dict[str, str]:
    # google-cloud-tasks has no emulator variable of its own: the services read this one and give
    # the client a CloudTasksGrpcTransport on grpc.insecure_channel(<it>).
    return {"CLOUD_TASKS_EMULATOR_HOST": f"{HOST}:{ctx.ports.tasks}"}


# --- Redis (redis-server) -------------------------------------------------------------------------


def _redis_launch(ctx: RunContext) -> Launch:
    server = shutil.which("redis-server")
    if server is None:
        raise ToolMissingError(
            "redis-server not found on PATH; install Redis 7 "
            "(Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`)"
        )
    # No persistence: every run starts empty and nothing is written to disk.
    argv = [server, "--bind", HOST, "--port", str(ctx.ports.redis), "--save", "", "--appendonly"]
    argv += ["no", "--dir", str(ctx.state_dir)]
    return Launch(argv=argv, env={})


def _redis_ready(ctx: RunContext) -> ReadyCheck:
    return tcp_ready(HOST, ctx.ports.redis)


def _redis_env(ctx: RunContext) -> dict[str, str]:
    return {"REDIS_URL": f"redis://{HOST}:{ctx.ports.redis}/0"}


# Start order: slowest first, so the others start while it warms up.
EMULATORS: dict[str, EmulatorSpec] = {
    spec.name: spec
    for spec in (
        EmulatorSpec(
            name="auth",
            label="Firebase Auth emulator",
            port_fields=("auth", "hub", "logging"),
            launch=_auth_launch,
            ready=_auth_ready,
            env=_auth_env,
            timeout=90.0,  # 12-15 s alone; much more on a busy two-core machine
        ),
        EmulatorSpec(
            name="bigquery",
            label="BigQuery emulator",
            port_fields=("bigquery", "bigquery_grpc"),
            launch=_bigquery_launch,
            ready=_bigquery_ready,
            env=_bigquery_env,
            timeout=60.0,  # ~5 s alone, trying to fetch DuckDB extensions; more on a busy machine
        ),
        EmulatorSpec(
            name="firestore",
            label="Firestore emulator",
            port_fields=("firestore",),
            launch=_firestore_launch,
            ready=_firestore_ready,
            env=_firestore_env,
            timeout=30.0,
        ),
        EmulatorSpec(
            name="redis",
            label="Redis",
            port_fields=("redis",),
            launch=_redis_launch,
            ready=_redis_ready,
            env=_redis_env,
            timeout=15.0,
        ),
        EmulatorSpec(
            name="tasks",
            label="Cloud Tasks emulator",
            port_fields=("tasks",),
            launch=_tasks_launch,
            ready=_tasks_ready,
            env=_tasks_env,
            timeout=30.0,  # ~1 s alone; more on a busy machine
        ),
    )
}


class EmulatorSuite:
    """One run's emulators, as a context manager: start() awaits readiness; stop() is idempotent."""

    def __init__(
        self,
        ports: EmulatorPorts | None = None,
        project_id: str = "demo-agora",
        log_dir: Path | None = None,
        only: Iterable[str] | None = None,
        *,
        node_modules: Path | None = None,
        bqemulator_venv: Path | None = None,
        cloudtasks_venv: Path | None = None,
        state_dir: Path | None = None,
        grace: float = 5.0,
    ) -> None:
        unknown = set(only or ()) - set(EMULATORS)
        if unknown:
            known = ", ".join(EMULATORS)
            raise ValueError(f"unknown emulator(s) {', '.join(sorted(unknown))}; known: {known}")
        self.ports = ports or EmulatorPorts()
        self.project_id = project_id
        self.log_dir = Path(log_dir) if log_dir else repo_root() / ".local" / "logs"
        self.node_modules = Path(node_modules) if node_modules else repo_root() / "node_modules"
        self.bqemulator_venv = (
            Path(bqemulator_venv) if bqemulator_venv else repo_root() / BQEMULATOR_VENV
        )
        self.cloudtasks_venv = (
            Path(cloudtasks_venv) if cloudtasks_venv else repo_root() / CLOUDTASKS_VENV
        )
        self.specs = [spec for name, spec in EMULATORS.items() if only is None or name in only]
        self._state_dir_arg = state_dir
        self._state_dir: Path | None = None
        self._owns_state_dir = False
        self._supervisor = Supervisor(self.log_dir, grace=grace)
        self._check_distinct_ports()

    @property
    def names(self) -> list[str]:
        """Names of the emulators this suite runs, in start order."""
        return [spec.name for spec in self.specs]

    @property
    def children(self) -> dict[str, Child]:
        """The running children, by emulator name."""
        return self._supervisor.children

    @property
    def pid_file(self) -> Path:
        """JSON file naming each child's PID and process group while the suite runs."""
        return self.log_dir / PID_FILE_NAME

    def port(self, name: str) -> int:
        """Client port of emulator `name`."""
        return EMULATORS[name].port(self.ports)

    def _check_distinct_ports(self) -> None:
        used: dict[int, str] = {}
        for spec in self.specs:
            for port_field in spec.port_fields:
                port = getattr(self.ports, port_field)
                if port in used:
                    raise ValueError(f"port {port} given for both {used[port]} and {port_field}")
                used[port] = port_field

    def _context(self) -> RunContext:
        assert self._state_dir is not None
        return RunContext(
            self.ports,
            self.project_id,
            self.node_modules,
            self._state_dir,
            self.bqemulator_venv,
            self.cloudtasks_venv,
        )

    def start(self) -> Self:
        """Start every emulator and wait until all are ready; on failure stop them and raise."""
        # Check everything before starting anything: a one-line error beats a half-started suite.
        for spec in self.specs:
            for port_field in spec.port_fields:
                what = (
                    spec.label
                    if port_field == spec.port_fields[0]
                    else f"{spec.label} ({port_field})"
                )
                hint = f"stop what holds it or pick another with {_port_flag(port_field)}"
                ensure_port_free(HOST, getattr(self.ports, port_field), what, hint)
        self._make_state_dir()
        try:
            ctx = self._context()
            launches = [(spec, spec.launch(ctx)) for spec in self.specs]
            started = [
                self._supervisor.start(
                    spec.name,
                    launch.argv,
                    env=launch.env,
                    cwd=launch.cwd,
                    ready=spec.ready(ctx),
                    timeout=spec.timeout,
                    wait=False,  # start them all, then wait: readiness overlaps
                    label=spec.label,
                )
                for spec, launch in launches
            ]
            self._supervisor.wait_ready(started)
            self._write_pid_file()
        except BaseException as error:
            # A child that ran and failed may have left firebase-debug.log in the state dir.
            self.stop(keep_state=isinstance(error, StartError))
            raise
        return self

    def _make_state_dir(self) -> None:
        if self._state_dir_arg is not None:
            self._state_dir = Path(self._state_dir_arg)
            self._state_dir.mkdir(parents=True, exist_ok=True)
            return
        base = repo_root() / ".local" / "state"
        base.mkdir(parents=True, exist_ok=True)
        self._state_dir = Path(tempfile.mkdtemp(prefix="emulators-", dir=base))
        self._owns_state_dir = True

    def _write_pid_file(self) -> None:
        pids = {
            name: {"pid": child.pid, "pgid": child.pgid} for name, child in self.children.items()
        }
        self.pid_file.write_text(json.dumps(pids, indent=2) + "\n")

    def stop(self, *, keep_state: bool = False) -> None:
        """Stop every emulator and its whole process tree. Idempotent.

        keep_state keeps the run's state dir (generated firebase config, firebase-debug.log).
        """
        self._supervisor.stop_all()
        # Only a suite that started something owns the PID file; another run may share log_dir.
        with contextlib.suppress(OSError):
            if self.children and self.pid_file.is_file():
                self.pid_file.unlink()
        if self._owns_state_dir and self._state_dir is not None and not keep_state:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
            self._owns_state_dir = False

    def failed(self) -> Child | None:
        """The first emulator that has exited, if any."""
        return next((child for child in self.children.values() if not child.running()), None)

    def env(self) -> dict[str, str]:
        """Environment variables that point clients (Google SDKs, firebase-admin, redis) here."""
        ctx = RunContext(
            self.ports,
            self.project_id,
            self.node_modules,
            Path(),
            self.bqemulator_venv,
            self.cloudtasks_venv,
        )
        env = {"GOOGLE_CLOUD_PROJECT": self.project_id}
        for spec in self.specs:
            env.update(spec.env(ctx))
        return env

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


# --- CLI ------------------------------------------------------------------------------------------


def _port_flag(port_field: str) -> str:
    """The CLI flag that sets an EmulatorPorts field (bigquery_grpc: --bigquery-grpc-port)."""
    return f"--{port_field.replace('_', '-')}-port"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m agora_devstack.emulators",
        description="Start the local emulators on 127.0.0.1 and keep them up until Ctrl-C.",
    )
    defaults = EmulatorPorts()
    for port_field in fields(EmulatorPorts):
        parser.add_argument(
            _port_flag(port_field.name),
            type=int,
            default=getattr(defaults, port_field.name),
            metavar="N",
            help=f"{port_field.name} port (default {getattr(defaults, port_field.name)})",
        )
    parser.add_argument("--project", default="demo-agora", help="project id (default demo-agora)")
    parser.add_argument("--log-dir", type=Path, help="log directory (default .local/logs)")
    parser.add_argument(
        "--only",
        help=f"comma-separated subset of: {', '.join(EMULATORS)} (default: all)",
    )
    parser.add_argument("--node-modules", type=Path, help="node_modules directory to use")
    parser.add_argument(
        "--bqemulator-venv",
        type=Path,
        help=f"the BigQuery emulator's environment (default {BQEMULATOR_VENV})",
    )
    parser.add_argument(
        "--cloudtasks-venv",
        type=Path,
        help=f"the Cloud Tasks emulator's environment (default {CLOUDTASKS_VENV})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the emulators until Ctrl-C or SIGTERM; print a one-line error and return 1 on failure."""
    args = _parse_args(argv)
    ports = EmulatorPorts(
        **{f.name: getattr(args, f"{f.name}_port") for f in fields(EmulatorPorts)}
    )
    only = {name.strip() for name in args.only.split(",") if name.strip()} if args.only else None
    try:
        suite = EmulatorSuite(
            ports,
            args.project,
            args.log_dir,
            only,
            node_modules=args.node_modules,
            bqemulator_venv=args.bqemulator_venv,
            cloudtasks_venv=args.cloudtasks_venv,
        )
    except ValueError as error:
        print(f"emulators: {error}", file=sys.stderr)
        return 2
    try:
        with suite:
            _print_banner(suite)
            while (child := suite.failed()) is None:
                time.sleep(0.5)
            print(
                f"emulators: {child.label} exited unexpectedly (code {child.returncode}); "
                f"see {child.log_path}",
                file=sys.stderr,
            )
            return 1
    except SupervisorError as error:
        print(f"emulators: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("emulators: stopped", flush=True)
        return 0


def _print_banner(suite: EmulatorSuite) -> None:
    lines = [f"Emulators up for project {suite.project_id} (logs in {suite.log_dir}):"]
    for spec in suite.specs:
        child = suite.children[spec.name]
        lines.append(f"  {spec.label:<24} {HOST}:{spec.port(suite.ports):<6} pid {child.pid}")
    lines.append("Point clients at them with:")
    lines += [f"  export {key}={value}" for key, value in suite.env().items()]
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
