"""Analytics: ingestion throughput, and metrics-query latency with 100,000 events stored.

Method: the BigQuery and Firestore emulators, registry and analytics on free ports, pinned to
core 1 (as bench/gateway); this process on core 0.

- Ingestion: `--events` execution events (default 100,000, over 29 days and 10 agents) posted to
  `POST /log` as the executor, in requests of 500 from 4 concurrent senders. Compared, in the same
  run, with the emulator's own ceiling: the same rows streamed straight into a table of their own
  with google-cloud-bigquery (no validation, pricing or HTTP in between).
- Queries: with every event stored, each read route 20 times in a row as an admin through the
  gateway's identity: p50 / p95 ms. Compared with the summary query run straight on BigQuery.

    PYTHONPATH=. uv run python bench/analytics/run.py [--events 100000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from agora_analytics import queries as q
from agora_analytics.bigquery import SCHEMA
from agora_common.identity import identity_headers
from agora_common.models import CallerKind, UserIdentity
from bench.common import local_stack, pin_pid
from tests.support.factories import card, signer_for

PROJECT = "demo-agora-bench"
BATCH = 500
SENDERS = 4
AGENTS = 10


def events(count: int, agents: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    made = []
    for i in range(count):
        failed = rng.random() < 0.05
        made.append(
            {
                "kind": "execution",
                "event_id": f"bench-{i:07d}",
                "occurred_at": (now - timedelta(seconds=rng.uniform(60, 29 * 86_400))).isoformat(),
                "agent_id": agents[i % len(agents)],
                "tool_name": "black_scholes",
                "caller_uid": f"user-{i % 50}",
                "status": "error" if failed else "succeeded",
                "error_code": "AGENT_TIMEOUT" if failed else None,
                "duration_ms": rng.lognormvariate(3, 0.6),
                "request_bytes": 120,
                "response_bytes": 480,
            }
        )
    return made


async def ingest(url: str, token: str, batches: list[list[dict[str, Any]]]) -> float:
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def sender(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            response = await http.post(
                f"{url}/log", json={"events": batch}, headers={"authorization": f"Bearer {token}"}
            )
            if response.status_code != 200 or response.json()["accepted"] != len(batch):
                raise RuntimeError(
                    f"ingestion failed: {response.status_code} {response.text[:200]}"
                )

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as http:
        await asyncio.gather(*(sender(http) for _ in range(SENDERS)))
    return time.perf_counter() - started


def direct_ingest(client: bigquery.Client, rows: list[dict[str, Any]]) -> float:
    table = bigquery.Table(f"{PROJECT}.bench_direct.events", schema=list(SCHEMA))
    client.create_dataset(f"{PROJECT}.bench_direct", exists_ok=True)
    client.create_table(table, exists_ok=True)
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        chunk = [r | {"ingested_at": now, "cost_micros": 100} for r in rows[start : start + BATCH]]
        errors = client.insert_rows_json(
            table, chunk, row_ids=[r["event_id"] for r in chunk], timeout=60
        )
        if errors:
            raise RuntimeError(f"direct insert failed: {errors[:1]}")
    return time.perf_counter() - started


def timed(call: Any, repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    pin_pid(0, 0)
    emulators = ("auth", "firestore", "redis", "bigquery")  # on the servers' core, as measured
    with local_stack(
        PROJECT, ("registry", "analytics"), {}, emulators=emulators, emulator_core=1
    ) as stack:
        key = stack.key
        registry, analytics = stack.urls["registry"], stack.urls["analytics"]
        owner = UserIdentity(kind=CallerKind.USER, uid="bench-owner")
        admin = UserIdentity(kind=CallerKind.USER, uid="bench-admin", admin=True)

        def as_gateway(base: str, user: UserIdentity) -> dict[str, str]:
            token = signer_for(key, "gateway", PROJECT).sign(base)
            return {"authorization": f"Bearer {token}"} | identity_headers(user)

        agents = []
        for i in range(AGENTS):
            response = httpx.post(
                f"{registry}/register",
                json=card(f"BenchAgent{i}"),
                headers=as_gateway(registry, owner),
                timeout=30,
            )
            response.raise_for_status()
            agents.append(response.json()["id"])

        made = events(args.events, agents)
        batches = [made[i : i + BATCH] for i in range(0, len(made), BATCH)]
        token = signer_for(key, "executor", PROJECT).sign(analytics)
        took = asyncio.run(ingest(analytics, token, batches))
        host = stack.emulators["BIGQUERY_EMULATOR_HOST"]
        client = bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{host}"),
        )
        direct = direct_ingest(client, made)

        reads = {
            f"GET /metrics/{{agent}}?window={w}": (f"/metrics/{agents[0]}", {"window": w})
            for w in ("1h", "24h", "7d", "30d")
        }
        reads["GET /costs?scope=all (30 days)"] = ("/costs", {"scope": "all"})
        reads["GET /dashboard"] = ("/dashboard", {})
        latency = {}
        with httpx.Client(timeout=120) as http:
            for name, (path, params) in reads.items():

                def call(path: str = path, params: dict[str, str] = params) -> None:
                    response = http.get(
                        f"{analytics}{path}", params=params, headers=as_gateway(analytics, admin)
                    )
                    response.raise_for_status()

                call()  # warm
                latency[name] = timed(call, args.repeats)
            total = http.get(
                f"{analytics}/metrics/{agents[0]}",
                params={"window": "30d"},
                headers=as_gateway(analytics, admin),
            ).json()["calls"]

        table_id = f"{PROJECT}.agora_analytics.events"
        until = datetime.now(UTC)
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("since", "TIMESTAMP", until - timedelta(days=30)),
                bigquery.ScalarQueryParameter("until", "TIMESTAMP", until),
                bigquery.ScalarQueryParameter("agent_id", "STRING", agents[0]),
            ]
        )
        sql = q.events(table_id, where="AND agent_id = @agent_id") + q.METRICS_SUMMARY
        latency["summary query straight on BigQuery (30d, one agent)"] = timed(
            lambda: list(client.query(sql, job_config=config).result()), args.repeats
        )

    result = {
        "events": args.events,
        "ingest_events_per_s": args.events / took,
        "direct_events_per_s": args.events / direct,
        "one_agent_30d_calls": total,
        "latency_ms": latency,
    }
    print(json.dumps(result, indent=2))
    print()
    print("| Ingestion | events/s |")
    print("|---|---:|")
    through, straight = result["ingest_events_per_s"], result["direct_events_per_s"]
    print(f"| POST /log (validate, price, batch, stream; 4 senders, 500 each) | {through:,.0f} |")
    print(f"| straight into the emulator (insert_rows_json, 500 each) | {straight:,.0f} |")
    print()
    print(f"| Query, {args.events:,} events stored | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for name, figures in latency.items():
        print(f"| {name} | {figures['p50']:.0f} | {figures['p95']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
