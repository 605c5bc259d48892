"""Local emulator launcher: Firebase Auth, Firestore, BigQuery, Cloud Tasks, Cloud Storage, Redis.

For dev runs and tests, all on 127.0.0.1: `make emulators` runs
`python -m agora_devstack.emulators`; `make dev` and the pytest session use EmulatorSuite. Each
emulator is one entry of EMULATORS, so adding one means one more port field on EmulatorPorts and
one more EmulatorSpec.

Stand-ins: the Auth emulator of firebase-tools, the open-source Node Firestore emulator
(@firestore-emulator/server, started by firestore_emulator.mjs next to this file), the open-source
BigQuery emulator bqemulator (DuckDB + SQLGlot; REST and gRPC, started by bqemulator_start.py next
to this file), the open-source Cloud Tasks emulator gcloud-tasks-emulator (gRPC, started by
cloudtasks_start.py next to this file), the open-source Cloud Storage emulator gcp-storage-emulator
(its JSON API over http, in memory, started by gcs_start.py next to this file with the sources
bucket created) and redis-server. The Node packages are pinned in the repository's package.json;
bqemulator and gcloud-tasks-emulator each have an environment of their own, pinned by
tools/bqemulator/uv.lock and tools/cloudtasks/uv.lock, as their dependencies clash with the
workspace's; gcp-storage-emulator (pure Python, one dependency) is a workspace dependency of this
package, pinned by uv.lock. `make install` installs them all. Clients reach the BigQuery emulator
through BIGQUERY_EMULATOR_HOST (host:port of its REST API, served over plain http), the Cloud Tasks
emulator through CLOUD_TASKS_EMULATOR_HOST (host:port of its gRPC API, without TLS: a
google-cloud-tasks client on grpc.insecure_channel(it)) and the Cloud Storage emulator through
STORAGE_EMULATOR_HOST (http://host:port, scheme included, which google-cloud-storage reads itself).

The parts: emulator_base (ports, run context, the spec's shape), emulator_kinds (one spec per
emulator), emulator_suite (EmulatorSuite); this module is their public face and the CLI.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from pathlib import Path

from agora_devstack.emulator_base import (
    BQEMULATOR_VENV,
    CLOUDTASKS_VENV,
    HOST,
    SOURCE_BUCKET,
    EmulatorPorts,
    EmulatorSpec,
    Launch,
    RunContext,
    port_flag,
    repo_root,
)
from agora_devstack.emulator_kinds import CLOUDTASKS_MAX_RETRIES, EMULATORS
from agora_devstack.emulator_suite import PID_FILE_NAME, EmulatorSuite
from agora_devstack.processes import SupervisorError

__all__ = [
    "BQEMULATOR_VENV",
    "CLOUDTASKS_MAX_RETRIES",
    "CLOUDTASKS_VENV",
    "EMULATORS",
    "HOST",
    "PID_FILE_NAME",
    "SOURCE_BUCKET",
    "EmulatorPorts",
    "EmulatorSpec",
    "EmulatorSuite",
    "Launch",
    "RunContext",
    "main",
    "repo_root",
]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m agora_devstack.emulators",
        description="Start the local emulators on 127.0.0.1 and keep them up until Ctrl-C.",
    )
    defaults = EmulatorPorts()
    for port_field in fields(EmulatorPorts):
        parser.add_argument(
            port_flag(port_field.name),
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
