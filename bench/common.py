"""What the benchmarks share: core pinning, a process's CPU time, and wrk runs as JSON."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora_devstack.emulators import EmulatorPorts, EmulatorSuite
from agora_devstack.fleetspec import DevKey, LocalFleet
from agora_devstack.processes import Supervisor, free_ports, http_ready

HERE = Path(__file__).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pinned(core: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *argv]
    return argv


def pin_pid(core: int, pid: int) -> None:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        subprocess.run(["taskset", "-apc", str(core), str(pid)], capture_output=True, check=False)


def pin_tree(core: int, pid: int) -> None:
    """`pid`, its threads and every process it started (an emulator's CLI and its server)."""
    for each in tree_pids(pid):
        pin_pid(core, each)


def tree_pids(pid: int) -> list[int]:
    """`pid` and every process under it."""
    found = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            found += tree_pids(int(child))
    return found


def settle(pids: Sequence[int], *, busy: float = 0.2, limit_s: float = 180.0) -> float:
    """Wait until `pids` together use less than `busy` of a core over half a second (or
    `limit_s` passed); the seconds waited. The Firestore emulator works off a burst of writes
    long after the burst, and latency measured meanwhile would be the emulator's backlog."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = sum(_cpu_or_zero(pid) for pid in pids)
        time.sleep(0.5)
        if sum(_cpu_or_zero(pid) for pid in pids) - before < busy * 0.5:
            break
    return time.monotonic() - started


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wrk(
    url: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    *,
    script: Path = HERE / "gateway" / "latency.lua",
    script_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One wrk run on core 0; the script's done() prints the figures as one JSON line."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s"]
    argv += ["-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    if script_args:
        argv += ["--", *script_args]
    out = subprocess.run(
        pinned(0, argv),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


# One wrk run against a target: (connections, seconds) -> wrk's figures.
Measure = Callable[[int, float], dict[str, Any]]

# Latency runs are cut into this many short slices, interleaved across the targets, and each
# target's figures are compared with the baseline's from the same slice: this machine drifts
# by tens of percent within a minute, which a difference of two 10-second runs cannot cancel.
SLICES = 5
_LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "p50_1_ms", "p95_1_ms")


def compare(
    targets: dict[str, Measure],
    cpu_pids: Mapping[str, int],
    cpu_key: str,
    *,
    seconds: float,
    repeats: int,
    upstream_pid: int | None = None,
    settle_pids: Sequence[int] = (),
) -> dict[str, Any]:
    """Per repetition: throughput at 32 connections for each target (with the CPU that
    `cpu_pids[target]` spent per request, and the upstream's), then latency at 4 connections and
    at 1 (one call at a time: no queueing) in SLICES interleaved slices. The first target is the
    baseline; "added" figures are medians of same-slice differences from it. Before the latency
    slices, `settle_pids` (the emulators) are given time to go quiet. A slice in which a target
    completed no request counts as errors and is left out of the medians."""
    for measure in targets.values():
        measure(4, 1.0)
    base_name, *others = targets
    throughput: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    slices: list[dict[str, dict[str, float]]] = []
    settled: list[float] = []
    for _ in range(repeats):
        for name, measure in targets.items():
            pid = cpu_pids.get(name)
            before = cpu_seconds(pid) if pid else 0.0
            upstream_before = cpu_seconds(upstream_pid) if upstream_pid else 0.0
            run = measure(32, seconds)
            record = {
                "rps": run["rps"],
                "errors": run["errors"] + run["non2xx"],
                cpu_key: (cpu_seconds(pid) - before if pid else 0.0) / run["requests"] * 1e6,
            }
            if upstream_pid:
                upstream = cpu_seconds(upstream_pid) - upstream_before
                record["upstream_cpu_us"] = upstream / run["requests"] * 1e6
            throughput[name].append(record)
        settled.append(settle(settle_pids) if settle_pids else 0.0)
        for _ in range(SLICES):
            figures = {}
            for name, measure in targets.items():
                latency, alone = measure(4, seconds / SLICES), measure(1, seconds / SLICES)
                figures[name] = {
                    "p50_ms": latency["p50_ms"],
                    "p95_ms": latency["p95_ms"],
                    "p99_ms": latency["p99_ms"],
                    "p50_1_ms": alone["p50_ms"],
                    "p95_1_ms": alone["p95_ms"],
                    "errors": sum(r["errors"] + r["non2xx"] for r in (latency, alone)),
                    "empty": not (latency["requests"] and alone["requests"]),
                }
            slices.append(figures)
    full = [f for f in slices if not any(v["empty"] for v in f.values())]
    counted = full or slices
    summary: dict[str, Any] = {}
    for name in targets:
        rows = throughput[name]
        summary[name] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for key in _LATENCY_KEYS:
            summary[name][key] = statistics.median(f[name][key] for f in counted)
        summary[name]["errors"] = (
            sum(r["errors"] for r in rows)
            + sum(f[name]["errors"] for f in slices)
            + sum(f[name]["empty"] for f in slices)
        )
    summary["ratios"] = {}
    for name in others:
        ratios: dict[str, Any] = {
            "throughput_x_direct": summary[name]["rps"] / summary[base_name]["rps"],
            f"{cpu_key}_per_request": summary[name][cpu_key],
        }
        for key in ("p50_ms", "p95_ms", "p50_1_ms", "p95_1_ms"):
            added = sorted(f[name][key] - f[base_name][key] for f in counted)
            ratios[f"added_{key}"] = statistics.median(added)
            q1, _, q3 = statistics.quantiles(added, n=4) if len(added) > 1 else (added * 3)
            ratios[f"added_{key}_quartiles"] = [q1, q3]
        summary["ratios"][name] = ratios
    summary["runs"] = {"throughput": throughput, "latency_slices": slices}
    summary["machine"] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "seconds": seconds,
        "repeats": repeats,
        "slices": SLICES,
        "empty_slices": len(slices) - len(full),
        "settle_s": settled,
    }
    return summary


def table(summary: dict[str, Any], names: Sequence[str], cpu_key: str, cpu_label: str) -> str:
    """The Markdown table docs/benchmarks.md records; the first name is the baseline."""
    upstream = "upstream_cpu_us" in summary[names[0]]
    extra = " upstream CPU per request |" if upstream else ""
    rows = [
        "| Target | req/s at 32 conns | x direct | p50 / p95 / p99 ms at 4 conns | "
        f"p50 / p95 ms at 1 conn | {cpu_label} |{extra} errors |",
        "|---|---:|---:|---|---|---:|" + ("---:|" if upstream else "") + "---:|",
    ]
    base = summary[names[0]]
    for name in names:
        r = summary[name]
        cpu = "-" if name == names[0] else f"{r[cpu_key]:.0f} µs"
        rows.append(
            f"| {name} | {r['rps']:,.0f} | {r['rps'] / base['rps']:.2f} | "
            f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f} / {r['p99_ms']:.2f} | "
            f"{r['p50_1_ms']:.2f} / {r['p95_1_ms']:.2f} | {cpu} | "
            + (f"{r['upstream_cpu_us']:.0f} µs | " if upstream else "")
            + f"{r['errors']:.0f} |"
        )
    for name in names[1:]:
        ratios = summary["ratios"][name]

        def added(key: str, ratios: dict[str, Any] = ratios) -> str:
            q1, q3 = ratios[f"added_{key}_quartiles"]
            return f"{ratios[f'added_{key}']:+.2f} ms ({q1:+.2f} to {q3:+.2f})"

        rows.append(
            f"\n{name} adds (median of same-slice differences, quartiles in brackets): "
            f"at 4 conns p50 {added('p50_ms')}, p95 {added('p95_ms')}; "
            f"at 1 conn p50 {added('p50_1_ms')}, p95 {added('p95_1_ms')}"
        )
    return "\n".join(rows)


def arguments(doc: str, seconds: float) -> argparse.Namespace | None:
    """The benchmarks' command line; None (after saying why) when wrk is missing."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--emulator-core",
        type=int,
        choices=(0, 1),
        default=EMULATOR_CORE,
        help="the core of the emulators: 0 beside wrk (default), or 1 beside the servers",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is missing (make bench installs it)", file=sys.stderr)
        return None
    return args


@dataclass(frozen=True)
class LocalStack:
    workdir: Path
    key: Path
    emulators: dict[str, str]
    urls: dict[str, str]
    pids: dict[str, int]
    emulator_pids: list[int]


# Stand-ins for managed Google services (and Redis, Memorystore in production): they never
# share a Cloud Run instance's CPU, so by default they run beside wrk on core 0, and core 1
# holds only our own processes. `--emulator-core 1` puts them back on the servers' core.
EMULATOR_CORE = 0


@contextmanager
def local_stack(
    project: str,
    services: Sequence[str],
    overrides: Mapping[str, Mapping[str, Any]],
    *,
    emulators: Sequence[str] = ("auth", "firestore", "redis"),
    emulator_core: int = EMULATOR_CORE,
) -> Iterator[LocalStack]:
    """`emulators` pinned to `emulator_core`, and `services` on free ports pinned to core 1,
    quiet unless asked. `overrides` are further settings of each service, by field name."""
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    key = DevKey.make(workdir)
    suite = EmulatorSuite(EmulatorPorts.free(), project_id=project, log_dir=workdir, only=emulators)
    with suite:
        for child in suite.children.values():
            pin_tree(emulator_core, child.pid)
        emulator_env = suite.env()
        ports = dict(zip(services, free_ports(len(services)), strict=True))
        fleet = LocalFleet(emulator_env, ports, key, workdir, project_id=project)
        urls = {name: fleet.url(name) for name in services}
        with Supervisor(workdir / "services") as supervisor:
            for name in services:
                supervisor.start(
                    name,
                    # Children (the executor's agents) inherit the pinning to core 1.
                    pinned(1, [sys.executable, "-m", f"agora_{name}"]),
                    env=fleet.env_for(name, **{"log_level": "WARNING", **overrides.get(name, {})}),
                    ready=http_ready(f"{urls[name]}/readyz", ok=lambda s: s == 200),
                )
            pids = {name: child.pid for name, child in supervisor.children.items()}
            emulator_pids = [p for c in suite.children.values() for p in tree_pids(c.pid)]
            yield LocalStack(workdir, key.key_file, emulator_env, urls, pids, emulator_pids)
