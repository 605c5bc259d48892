"""Outbound HTTP clients, measured in one run against one local upstream.

Candidates: (a) httpx on httpx-aiohttp's transport (aiohttp's pool), (b) httpx on its own pool
(httpcore, keep-alive sized to the load), (c) the hand-written `Http1Transport`, when the tree
still has it. Each round runs every candidate once, in a rotating order, for a fixed number of
requests at a fixed concurrency, driven the way the gateway's proxy drives its transport
(`handle_async_request`, body read, response closed). Reported per candidate: the client
process's CPU per request (the upstream runs in another process, pinned to another core) and
the median of the per-request latencies, each the median over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import httpx
from httpx_aiohttp import AiohttpTransport

from agora_devstack.processes import free_ports
from bench.common import pin_pid, pinned

HERE = Path(__file__).parent
Factory = Callable[[int], httpx.AsyncBaseTransport]


def _aiohttp(concurrency: int) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=4.0)
    return AiohttpTransport(limits=limits, trust_env=False)


def _httpcore(concurrency: int) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=4.0
    )
    return httpx.AsyncHTTPTransport(limits=limits, retries=0, trust_env=False)


def candidates() -> dict[str, Factory]:
    found: dict[str, Factory] = {"httpx-aiohttp": _aiohttp, "httpx-httpcore": _httpcore}
    try:
        http1 = importlib.import_module("agora_common.http1")
    except ImportError:  # removed from the tree: two candidates remain
        return found
    found["http1"] = lambda concurrency: http1.Http1Transport(max_idle_per_host=concurrency)
    return found


async def one_round(
    factory: Factory, url: str, requests: int, concurrency: int
) -> tuple[float, float]:
    """(CPU µs per request, p50 latency in ms) of `requests` calls at `concurrency`."""
    transport = factory(concurrency)
    latencies: list[float] = []
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            request = httpx.Request("GET", url, headers={"accept": "application/json"})
            response = await transport.handle_async_request(request)
            try:
                async for _ in response.stream:  # type: ignore[union-attr]
                    pass
            finally:
                await response.aclose()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm the pool
    latencies.clear()
    remaining = requests
    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu = time.process_time() - cpu
    await transport.aclose()
    return cpu / requests * 1e6, statistics.median(latencies) * 1000


async def measure(url: str, rounds: int, requests: int, concurrency: int) -> dict[str, object]:
    found = candidates()
    names = list(found)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for index in range(rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            samples[name].append(await one_round(found[name], url, requests, concurrency))
    return {
        name: {
            "cpu_us_per_request": round(statistics.median(s[0] for s in runs), 1),
            "p50_ms": round(statistics.median(s[1] for s in runs), 3),
            "rounds": len(runs),
        }
        for name, runs in samples.items()
    }


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - the local upstream
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    (port,) = free_ports(1)
    argv = pinned(1, [sys.executable, str(HERE / "upstream.py"), str(port)])
    upstream = subprocess.Popen(argv)
    try:
        url = f"http://127.0.0.1:{port}/r"
        deadline = time.monotonic() + 20
        while not _ready(url):
            if time.monotonic() > deadline:
                raise SystemExit("upstream did not start")
            time.sleep(0.1)
        pin_pid(0, os.getpid())
        try:
            import uvloop

            uvloop.install()  # the services' event loop
        except ImportError:
            pass
        summary = asyncio.run(measure(url, args.rounds, args.requests, args.concurrency))
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    print(json.dumps({"settings": vars(args), "results": summary}, indent=2))


if __name__ == "__main__":
    main()
