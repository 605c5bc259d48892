"""Gateway overhead: the same registry read, directly and through the gateway, in one run.

A third target, `bare`, is bench/gateway/bare_proxy.py: the least a Python proxy can do here (one
Redis round trip and a forward, nothing else), measured the same way, so the gateway's figures
can be read against a floor taken in the same run. The registry's own CPU per request is
reported for each target: sharing its core with any proxy makes it dearer.

Method (as in the reference figures for this kind of machine): wrk pinned to core 0, our servers
(registry, gateway) pinned to core 1; the emulators (Firestore, Auth, Redis: managed services in
production) beside wrk on core 0, or with `--emulator-core 1` beside the servers. Throughput at 32
connections, latency at 4; the gateway's own CPU per proxied request read from /proc.
Repetitions are interleaved and the medians reported, so the ratios compare like with like.

    uv run python bench/gateway/run.py [--seconds 10] [--repeats 3] [--emulator-core 0|1]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from agora_devstack.processes import Supervisor, free_ports, http_ready
from bench.common import (
    HERE,
    LocalStack,
    Measure,
    arguments,
    compare,
    local_stack,
    pinned,
    table,
    wrk,
)
from tests.support.factories import card, signer_for
from tests.support.firebase import AuthEmulator

PROJECT = "demo-agora-bench"
TARGETS = ("direct", "gateway", "bare")


def main() -> int:
    args = arguments(__doc__ or "", seconds=10.0)
    if args is None:
        return 2
    unlimited = {"rate_limits": {"read": "1000000000/minute"}}
    with local_stack(
        PROJECT, ("registry", "gateway"), {"gateway": unlimited}, emulator_core=args.emulator_core
    ) as stack:
        results = run(args, stack)
    results["machine"]["emulator_core"] = args.emulator_core
    print(json.dumps(results, indent=2))
    print(table(results, TARGETS, "proxy_cpu_us", "proxy CPU per request"))
    return 0


def run(args: argparse.Namespace, stack: LocalStack) -> dict[str, Any]:
    key, emulators, urls, pids = stack.key, stack.emulators, stack.urls, stack.pids
    registry, gateway = urls["registry"], urls["gateway"]
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
    service_token = f"Bearer {signer_for(key, 'gateway', PROJECT).sign(registry)}"
    floor = bare_proxy(stack.workdir, registry, emulators["REDIS_URL"], service_token)
    with floor as (bare, bare_pid):
        targets = {
            "direct": (f"{registry}/{agent_id}", {"Authorization": service_token}),
            "gateway": (f"{gateway}/api/v1/agents/{agent_id}", user.bearer),
            "bare": (f"{bare}/api/v1/agents/{agent_id}", user.bearer),
        }
        for url, headers in targets.values():
            assert httpx.get(url, headers=headers).status_code == 200

        def measure(url: str, headers: dict[str, str]) -> Measure:
            return lambda connections, seconds: wrk(url, headers, connections, seconds)

        return compare(
            {name: measure(*target) for name, target in targets.items()},
            {"gateway": pids["gateway"], "bare": bare_pid},
            "proxy_cpu_us",
            seconds=args.seconds,
            repeats=args.repeats,
            upstream_pid=pids["registry"],
            settle_pids=stack.emulator_pids,
        )


@contextmanager
def bare_proxy(
    workdir: Path, upstream: str, redis_url: str, token: str
) -> Iterator[tuple[str, int]]:
    """bench/gateway/bare_proxy.py on a free port, pinned to the servers' core."""
    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, str(HERE / "gateway" / "bare_proxy.py"), str(port), upstream, redis_url]
    with Supervisor(workdir / "bare") as supervisor:
        child = supervisor.start(
            "bare-proxy",
            pinned(1, argv),
            env={"BARE_PROXY_AUTH": token},
            ready=http_ready(f"{url}/api/v1/agents/-"),
        )
        yield url, child.pid


if __name__ == "__main__":
    sys.exit(main())
