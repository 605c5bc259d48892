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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora_common.iam.tokens import generate_dev_key
from agora_devstack.emulators import EmulatorPorts, EmulatorSuite
from agora_devstack.fleet import LocalPaths, service_env
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
    pin_pid(core, pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            pin_tree(core, int(child))


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


# One wrk run against a target at a number of connections.
Measure = Callable[[int], dict[str, Any]]


def compare(
    targets: dict[str, Measure],
    cpu_pids: Mapping[str, int],
    cpu_key: str,
    *,
    seconds: float,
    repeats: int,
    upstream_pid: int | None = None,
) -> dict[str, Any]:
    """Warm every target, then interleaved repetitions of: throughput at 32 connections (with the
    CPU that `cpu_pids[target]` spent per request, and the upstream's), latency at 4 connections
    and at 1 (one call at a time: no queueing). Medians, and each target's ratios to the first."""
    for measure in targets.values():
        measure(4)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for _ in range(repeats):
        for name, measure in targets.items():
            pid = cpu_pids.get(name)
            before = cpu_seconds(pid) if pid else 0.0
            upstream_before = cpu_seconds(upstream_pid) if upstream_pid else 0.0
            throughput = measure(32)
            cpu = cpu_seconds(pid) - before if pid else 0.0
            upstream = cpu_seconds(upstream_pid) - upstream_before if upstream_pid else 0.0
            latency = measure(4)
            alone = measure(1)
            run = {
                "rps": throughput["rps"],
                "errors": throughput["errors"] + throughput["non2xx"] + latency["non2xx"],
                "p50_ms": latency["p50_ms"],
                "p95_ms": latency["p95_ms"],
                "p99_ms": latency["p99_ms"],
                "p50_1_ms": alone["p50_ms"],
                "p95_1_ms": alone["p95_ms"],
                cpu_key: cpu / throughput["requests"] * 1e6,
            }
            if upstream_pid:
                run["upstream_cpu_us"] = upstream / throughput["requests"] * 1e6
            runs[name].append(run)
    summary: dict[str, Any] = {
        name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()
    }
    base_name, *others = targets
    base = summary[base_name]
    summary["ratios"] = {
        name: {
            "throughput_x_direct": summary[name]["rps"] / base["rps"],
            "added_p50_ms": summary[name]["p50_ms"] - base["p50_ms"],
            "added_p95_ms": summary[name]["p95_ms"] - base["p95_ms"],
            "added_p50_1_ms": summary[name]["p50_1_ms"] - base["p50_1_ms"],
            "added_p95_1_ms": summary[name]["p95_1_ms"] - base["p95_1_ms"],
            f"{cpu_key}_per_request": summary[name][cpu_key],
        }
        for name in others
    }
    summary["runs"] = runs
    summary["machine"] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "seconds": seconds,
        "repeats": repeats,
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
        rows.append(
            f"\n{name} adds at 4 conns: p50 {ratios['added_p50_ms']:+.2f} ms, "
            f"p95 {ratios['added_p95_ms']:+.2f} ms; at 1 conn: "
            f"p50 {ratios['added_p50_1_ms']:+.2f} ms, p95 {ratios['added_p95_1_ms']:+.2f} ms"
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


# Stand-ins for managed Google services (and Redis, Memorystore in production): they never
# share a Cloud Run instance's CPU, so by default they run beside wrk on core 0, and core 1
# holds only our own processes. `--emulator-core 1` puts them back on the servers' core.
EMULATOR_CORE = 0


@contextmanager
def local_stack(
    project: str,
    services: Sequence[str],
    overrides: Mapping[str, Mapping[str, str]],
    *,
    emulators: Sequence[str] = ("auth", "firestore", "redis"),
    emulator_core: int = EMULATOR_CORE,
) -> Iterator[LocalStack]:
    """`emulators` pinned to `emulator_core`, and `services` on free ports pinned to core 1,
    quiet unless asked."""
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    key = workdir / "dev-signer.pem"
    paths = LocalPaths(key, generate_dev_key(key), workdir)
    suite = EmulatorSuite(EmulatorPorts.free(), project_id=project, log_dir=workdir, only=emulators)
    with suite:
        for child in suite.children.values():
            pin_tree(emulator_core, child.pid)
        emulator_env = suite.env()
        ports = dict(zip(services, free_ports(len(services)), strict=True))
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        with Supervisor(workdir / "services") as supervisor:
            for name in services:
                supervisor.start(
                    name,
                    # Children (the executor's agents) inherit the pinning to core 1.
                    pinned(1, [sys.executable, "-m", f"agora_{name}"]),
                    env=service_env(
                        name,
                        ports,
                        paths,
                        emulator_env,
                        project_id=project,
                        overrides={"LOG_LEVEL": "WARNING", **overrides.get(name, {})},
                    ),
                    ready=http_ready(f"{urls[name]}/readyz", ok=lambda s: s == 200),
                )
            pids = {name: child.pid for name, child in supervisor.children.items()}
            yield LocalStack(workdir, key, emulator_env, urls, pids)
