"""Gateway overhead: the same registry read, directly and through the gateway, in one run.

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
from pathlib import Path
from typing import Any

import httpx

from bench.common import Measure, arguments, compare, local_stack, table, wrk
from tests.support.factories import card, signer_for
from tests.support.firebase import AuthEmulator

PROJECT = "demo-agora-bench"


def main() -> int:
    args = arguments(__doc__ or "", seconds=10.0)
    if args is None:
        return 2
    unlimited = {"RATE_LIMITS": json.dumps({"read": "1000000000/minute"})}
    with local_stack(
        PROJECT, ("registry", "gateway"), {"gateway": unlimited}, emulator_core=args.emulator_core
    ) as stack:
        urls = stack.urls
        results = run(
            args,
            stack.key,
            stack.emulators,
            urls["registry"],
            urls["gateway"],
            stack.pids["gateway"],
        )
    results["machine"]["emulator_core"] = args.emulator_core
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
