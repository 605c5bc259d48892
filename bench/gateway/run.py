"""Gateway overhead: the same registry read, directly and through the gateway, in one run.

Method (as in the reference figures for this kind of machine): wrk pinned to core 0, every server
(registry, gateway, emulators) pinned to core 1; throughput at 32 connections, latency at 4; the
gateway's own CPU per proxied request read from /proc. Repetitions are interleaved and the medians
reported, so the ratios compare like with like.

    uv run python bench/gateway/run.py [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from agora_common.iam.tokens import generate_dev_key
from agora_devstack.emulators import EmulatorPorts, EmulatorSuite
from agora_devstack.fleet import LocalPaths, service_env
from agora_devstack.processes import Supervisor, free_ports, http_ready
from bench.common import Measure, compare, pin_pid, pinned, table, wrk
from tests.support.factories import card, signer_for
from tests.support.firebase import AuthEmulator

PROJECT = "demo-agora-bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is missing (make bench installs it)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    key = workdir / "dev-signer.pem"
    jwks = generate_dev_key(key)
    with EmulatorSuite(EmulatorPorts.free(), project_id=PROJECT, log_dir=workdir) as suite:
        emulators = suite.env()
        registry_port, gateway_port = free_ports(2)
        registry = f"http://127.0.0.1:{registry_port}"
        gateway = f"http://127.0.0.1:{gateway_port}"
        with Supervisor(workdir / "services") as services:
            ports = {"registry": registry_port, "gateway": gateway_port}
            paths = LocalPaths(key, jwks)
            quiet = {"LOG_LEVEL": "WARNING"}
            unlimited = {**quiet, "RATE_LIMITS": json.dumps({"read": "1000000000/minute"})}
            for name, port in ports.items():
                services.start(
                    name,
                    pinned(1, [sys.executable, "-m", f"agora_{name}"]),
                    env=service_env(
                        name,
                        ports,
                        paths,
                        emulators,
                        project_id=PROJECT,
                        overrides=unlimited if name == "gateway" else quiet,
                    ),
                    ready=http_ready(f"http://127.0.0.1:{port}/readyz", ok=lambda s: s == 200),
                )
            for child in suite.children.values():  # the emulators share the servers' core
                pin_pid(1, child.pid)
            results = run(args, key, emulators, registry, gateway, services.children["gateway"].pid)
    print(json.dumps(results, indent=2))
    print(table(results, ("direct", "gateway"), "gateway_cpu_us", "gateway CPU per request"))
    return 0


def run(
    args: argparse.Namespace,
    key: Path,
    emulators: dict[str, str],
    registry: str,
    gateway: str,
    gateway_pid: int,
) -> dict[str, Any]:
    auth = AuthEmulator(emulators["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT)
    user = auth.sign_up(name="bench")
    register = f"{gateway}/api/v1/agents/register"
    created = httpx.post(register, json=card("BenchAgent"), headers=user.bearer)
    created.raise_for_status()
    agent_id = created.json()["id"]
    vetting = signer_for(key, "vetting", PROJECT)
    for status in ("vetted", "active"):
        token = vetting.sign(registry)
        httpx.post(
            f"{registry}/internal/agents/{agent_id}/status",
            json={"status": status, "reason": "benchmark"},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
    direct_headers = {
        "Authorization": f"Bearer {signer_for(key, 'gateway', PROJECT).sign(registry)}"
    }
    targets = {
        "direct": (f"{registry}/{agent_id}", direct_headers),
        "gateway": (f"{gateway}/api/v1/agents/{agent_id}", user.bearer),
    }
    for url, headers in targets.values():
        assert httpx.get(url, headers=headers).status_code == 200

    def measure(url: str, headers: dict[str, str]) -> Measure:
        return lambda connections: wrk(url, headers, connections, args.seconds)

    return compare(
        {name: measure(*target) for name, target in targets.items()},
        gateway_pid,
        "gateway_cpu_us",
        seconds=args.seconds,
        repeats=args.repeats,
    )


if __name__ == "__main__":
    sys.exit(main())
