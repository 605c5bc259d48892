"""The emulator kinds, one spec each: how to start it, when it is ready, what env clients need.

Adding one means one more port field on EmulatorPorts and one more EmulatorSpec in EMULATORS.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

from agora_devstack.emulator_base import (
    HOST,
    SOURCE_BUCKET,
    EmulatorSpec,
    Launch,
    RunContext,
    require_node,
)
from agora_devstack.errors import ToolMissingError
from agora_devstack.probes import ReadyCheck, all_ready, log_line_ready, tcp_ready

__all__ = ["CLOUDTASKS_MAX_RETRIES", "EMULATORS"]

_FIRESTORE_SCRIPT = Path(__file__).with_name("firestore_emulator.mjs")
_BQEMULATOR_SCRIPT = Path(__file__).with_name("bqemulator_start.py")
_CLOUDTASKS_SCRIPT = Path(__file__).with_name("cloudtasks_start.py")
_GCS_SCRIPT = Path(__file__).with_name("gcs_start.py")
# Attempts after the first before the Cloud Tasks emulator drops a failing task. It retries at once,
# with no backoff: uncapped, one failing handler would be called in a tight loop forever.
CLOUDTASKS_MAX_RETRIES = 3


# --- Firebase Auth emulator (firebase-tools) ------------------------------------------------------


def _auth_launch(ctx: RunContext) -> Launch:
    require_node(ctx, "firebase-tools", "firebase-tools/package.json")
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
    node = require_node(ctx, "@firestore-emulator/server", "@firestore-emulator/server")
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


# --- Cloud Storage emulator (gcp-storage-emulator, in the workspace) ------------------------------


def _storage_launch(ctx: RunContext) -> Launch:
    # A workspace dependency (pure Python, no clash): this interpreter has it once synced.
    if importlib.util.find_spec("gcp_storage_emulator") is None:
        raise ToolMissingError(
            "the Cloud Storage emulator (gcp-storage-emulator) is not installed in this "
            f"environment ({sys.prefix}); run `make install`"
        )
    argv = [sys.executable, str(_GCS_SCRIPT), "--host", HOST, "--port", str(ctx.ports.storage)]
    # In memory, as the others; the sources bucket exists from the start.
    argv += ["--bucket", SOURCE_BUCKET]
    return Launch(argv=argv, env={}, cwd=ctx.state_dir)


def _storage_ready(ctx: RunContext) -> ReadyCheck:
    return all_ready(log_line_ready("gcs emulator ready on"), tcp_ready(HOST, ctx.ports.storage))


def _storage_env(ctx: RunContext) -> dict[str, str]:
    # google-cloud-storage reads this one itself, scheme included (its own convention, unlike the
    # other emulators' host:port).
    return {"STORAGE_EMULATOR_HOST": f"http://{HOST}:{ctx.ports.storage}"}


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
            name="storage",
            label="Cloud Storage emulator",
            port_fields=("storage",),
            launch=_storage_launch,
            ready=_storage_ready,
            env=_storage_env,
            timeout=30.0,  # well under 1 s alone; more on a busy machine
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
