"""Execution overhead: a QuantFlow tool called directly and through gateway + executor, one run.

Method (as bench/gateway): wrk pinned to core 0; gateway, executor, registry, auth and the agent
pinned to core 1; the emulators beside wrk on core 0 (or `--emulator-core 1`). Throughput at 32
connections, latency at 4 (p50/p95/p99), and the executor's own CPU per execution from /proc.
Direct calls are signed by the benchmark, one fresh signature per request (the agent refuses
replays); through the platform, the executor signs.

    PYTHONPATH=. uv run python bench/execute/run.py [--seconds 8] [--repeats 3]
        [--emulator-core 0|1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from agora_agent_sdk.signing import compute_signature
from agora_devstack.seeding import Seeder
from bench.common import HERE, LocalStack, arguments, compare, local_stack, table, wrk
from tests.support.factories import signer_for
from tests.support.firebase import AuthEmulator

PROJECT = "demo-agora-bench"
SERVICES = ("registry", "auth", "executor", "gateway")
TOOL = "black_scholes"
PAYLOAD = {"spot": 100, "strike": 105, "time_to_expiry": 0.5, "rate": 0.03, "volatility": 0.25}
# Direct requests are pre-signed; more than wrk can send in one phase on this machine.
SIGNED_PER_SECOND = 6000


def main() -> int:
    args = arguments(__doc__ or "", seconds=8.0)
    if args is None:
        return 2
    overrides = {"gateway": {"rate_limits": {"execute": "1000000000/minute"}}}
    with local_stack(PROJECT, SERVICES, overrides, emulator_core=args.emulator_core) as stack:
        results = run(args, stack)
    results["machine"]["emulator_core"] = args.emulator_core
    print(json.dumps(results, indent=2))
    print(table(results, ("direct", "platform"), "executor_cpu_us", "executor CPU per execution"))
    return 0


def signed_requests(path: Path, secret: str, hash_id: str, count: int) -> None:
    """`count` distinct signed calls (each its own execution id), one per line for wrk."""
    now = int(time.time())
    with path.open("w") as out:
        for index in range(count):
            body = json.dumps(
                {"tool_name": TOOL, "payload": PAYLOAD, "context": {"execution_id": f"b{index}"}},
                separators=(",", ":"),
            ).encode()
            signature = compute_signature(secret, hash_id, body, now)
            out.write(f"{now}\tv1={signature}\t{body.decode()}\n")


def run(args: argparse.Namespace, stack: LocalStack) -> dict[str, Any]:
    key, emulators, urls, workdir = stack.key, stack.emulators, stack.urls, stack.workdir
    auth = AuthEmulator(emulators["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT)
    user = auth.sign_up(name="bench")
    seeder = Seeder(
        gateway=urls["gateway"],
        registry=urls["registry"],
        executor=urls["executor"],
        key_file=key,
        project_id=PROJECT,
    )
    quantflow = next(a for a in seeder.seed(user.token) if a.folder == "quantflow")
    agent = httpx.get(
        f"{urls['registry']}/internal/agents/{quantflow.agent_id}",
        headers={
            "authorization": f"Bearer {signer_for(key, 'auth', PROJECT).sign(urls['registry'])}"
        },
    ).json()
    secret = httpx.get(
        f"{urls['auth']}/internal/agent-secrets/{quantflow.agent_id}",
        headers={
            "authorization": f"Bearer {signer_for(key, 'executor', PROJECT).sign(urls['auth'])}"
        },
    ).json()["secret"]
    hash_id = agent["hash_id"]
    execution = {"agent_id": quantflow.agent_id, "tool_name": TOOL, "payload": PAYLOAD}
    env = {"BENCH_DIR": str(HERE), "BENCH_HASH_ID": hash_id}
    gateway_env = {**env, "BENCH_BODY": json.dumps(execution)}
    check = httpx.post(
        f"{urls['gateway']}/api/v1/agents/execute", json=execution, headers=user.bearer
    )
    if check.status_code != 200 or check.json()["status"] != "succeeded":
        raise RuntimeError(f"the platform cannot execute QuantFlow: {check.text}")

    def direct(connections: int, seconds: float) -> dict[str, Any]:
        signed = workdir / "signed.txt"
        signed_requests(signed, secret, hash_id, int(SIGNED_PER_SECOND * max(2, seconds + 1)))
        return wrk(
            quantflow.url,
            {},
            connections,
            seconds,
            script=HERE / "execute" / "signed.lua",
            script_args=[str(signed)],
            env=env,
        )

    def through(connections: int, seconds: float) -> dict[str, Any]:
        return wrk(
            f"{urls['gateway']}/api/v1/agents/execute",
            user.bearer,
            connections,
            seconds,
            script=HERE / "execute" / "post.lua",
            env=gateway_env,
        )

    return compare(
        {"direct": direct, "platform": through},
        {"platform": stack.pids["executor"]},
        "executor_cpu_us",
        seconds=args.seconds,
        repeats=args.repeats,
        settle_pids=stack.emulator_pids,
    )


if __name__ == "__main__":
    sys.exit(main())
