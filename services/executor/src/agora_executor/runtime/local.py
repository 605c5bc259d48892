"""Agents as local processes on loopback ports, for development without Cloud Run.

An agent is a directory directly under the configured agents root (`agents/quantflow`), run as
`python -m agora_<dirname>` with a minimal environment. Each runs in its own process group, under
an orphan guard (see orphan_guard.py) so that it dies with the executor even if the executor is
killed without a chance to stop it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import sys
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import httpx

from agora_common.egress import IPAddress
from agora_common.models.card import PACKAGE_SOURCE
from agora_executor.runtime import orphan_guard
from agora_executor.runtime.agent_process import AgentProcess, free_port
from agora_executor.runtime.base import (
    DeployFailed,
    Deployment,
    DeploySpec,
    scrub,
    service_name,
)
from agora_executor.runtime.packages import PackageFolders

log = logging.getLogger("agora.executor.runtime")

RUNTIME_NAME = "local"
_MODULE = re.compile(r"^agora_[a-z][a-z0-9_]*$")
# What an agent inherits from the executor's environment; everything else is left behind.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def default_guard() -> str:
    """The kernel's parent-death signal where there is one (Linux), a watchdog elsewhere."""
    return "pdeathsig" if sys.platform == "linux" else "watchdog"


@dataclass(frozen=True)
class LocalConfig:
    """Where agents may come from, where their logs go, and how long they get to start."""

    agents_root: Path
    log_dir: Path
    # Relative sources ("agents/quantflow") are relative to this; default: the root's parent.
    base_dir: Path | None = None
    host: str = "127.0.0.1"
    start_timeout_s: float = 30.0
    health_timeout_s: float = 2.0
    grace_s: float = 5.0
    # Extra import roots for agents, before the agent's own `src/` (tests use it).
    python_path: tuple[Path, ...] = ()
    guard: str = default_guard()
    # Set in every agent's environment (before the agent's own), e.g. the SDK's egress allowance.
    agent_env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Local agents listen on loopback only: the executor beside them is their one caller, and
        # anything else on the machine's network must not reach them. Containers (Cloud Run) are
        # the ones that listen on every interface.
        try:
            loopback = ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"local agents must listen on a loopback address, not {self.host!r}")


@dataclass(frozen=True)
class _Running:
    """A started agent process and the loopback endpoint it listens on."""

    process: AgentProcess
    endpoint: tuple[IPAddress, int]


class LocalRuntime:
    """Starts, replaces and stops agent processes; `aclose` stops them all.

    A redeploy is staged: the new process starts on a port of its own beside the serving one,
    which stops only once the new one is committed, so a revision that fails leaves the previous
    one serving.
    """

    def __init__(
        self, config: LocalConfig, http: httpx.AsyncClient, packages: PackageFolders | None = None
    ) -> None:
        if config.guard not in orphan_guard.MODES:
            raise ValueError(f"unknown guard {config.guard!r}")
        self.config = config
        self.http = http
        # Submitted packages (sources in the bucket), unpacked into folders of their own.
        self._packages = packages
        # Serving and staged processes by service name: the only endpoints egress admits.
        self._agents: dict[str, _Running] = {}
        self._staged: dict[str, _Running] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def admits(self, address: IPAddress, port: int) -> bool:
        """Whether an agent this runtime started listens at `address:port` (egress rule)."""
        running = (*self._agents.values(), *self._staged.values())
        return any(run.endpoint == (address, port) for run in running)

    def pid_of(self, hash_id: str) -> int | None:
        """The serving agent's process id (also its process group), if any."""
        run = self._agents.get(service_name(hash_id))
        return run.process.pid if run else None

    async def deploy(self, spec: DeploySpec) -> Deployment:
        """(Re)start the agent on a free port, wait until its /health answers 200, serve it."""
        deployment = await self.stage(spec)
        await self.commit(spec.agent_id, spec.hash_id)
        return deployment

    async def stage(self, spec: DeploySpec) -> Deployment:
        """Start the agent on a free port beside any serving one; healthy, or DeployFailed."""
        directory = await self._directory(spec.source)
        module = _module_for(directory)
        name = service_name(spec.hash_id)
        async with self._locks.setdefault(name, asyncio.Lock()):
            await self._stop(self._staged.pop(name, None))
            port = free_port(self.config.host)
            url = f"http://{self.config.host}:{port}"
            guard = [sys.executable, "-m", orphan_guard.__name__, str(os.getpid())]
            argv = [*guard, self.config.guard, module]
            env = self._env(directory, module, spec, port, url)
            log_path = self.config.log_dir / f"{name}.log"
            try:
                agent = AgentProcess.start(argv, env=env, cwd=directory, log_path=log_path)
            except OSError as exc:
                raise DeployFailed(f"Agent {directory.name} could not be started") from exc
            staged = _Running(agent, (ipaddress.ip_address(self.config.host), port))
            self._staged[name] = staged
            try:
                await self._wait_healthy(agent, url, directory.name, list(spec.env.values()))
            except BaseException:
                if self._staged.get(name) is staged:
                    del self._staged[name]
                await self._stop(staged)
                raise
        extra = {"agent_id": spec.agent_id, "url": url, "pid": agent.pid}
        log.info("started local agent", extra=extra)
        return Deployment(spec.agent_id, url, RUNTIME_NAME, None)

    async def commit(self, agent_id: str, hash_id: str) -> None:
        """The staged process serves; the one it replaces stops."""
        name = service_name(hash_id)
        async with self._locks.setdefault(name, asyncio.Lock()):
            staged = self._staged.pop(name, None)
            if staged is None:
                return
            previous = self._agents.get(name)
            self._agents[name] = staged
            await self._stop(previous)
        log.info("deployed local agent", extra={"agent_id": agent_id, "pid": staged.process.pid})

    async def discard(self, agent_id: str, hash_id: str) -> None:
        """Stop the staged process; the serving one, if any, goes on serving."""
        name = service_name(hash_id)
        async with self._locks.setdefault(name, asyncio.Lock()):
            await self._stop(self._staged.pop(name, None))
        log.info("discarded staged local agent", extra={"agent_id": agent_id})

    async def undeploy(self, agent_id: str, hash_id: str) -> None:
        """Stop the agent's processes; none running is fine."""
        name = service_name(hash_id)
        async with self._locks.setdefault(name, asyncio.Lock()):
            await self._stop(self._staged.pop(name, None))
            await self._stop(self._agents.pop(name, None))
        log.info("undeployed local agent", extra={"agent_id": agent_id})

    async def aclose(self) -> None:
        """Stop every agent (their grace periods overlap)."""
        running = [*self._agents.values(), *self._staged.values()]
        self._agents.clear()
        self._staged.clear()
        await asyncio.gather(*(self._stop(run) for run in running))

    async def _stop(self, run: _Running | None) -> None:
        if run is not None:
            await run.process.stop(self.config.grace_s)

    async def _directory(self, source: str | None) -> Path:
        """A platform agent's folder, or a submitted package's (fetched and unpacked)."""
        if source is not None and PACKAGE_SOURCE.fullmatch(source):
            if self._packages is None:
                raise DeployFailed("This runtime does not run submitted packages")
            return await self._packages.folder(source)
        return self._resolve(source)

    def _resolve(self, source: str | None) -> Path:
        """The agent's directory: an existing directory directly under the agents root."""
        if not source:
            raise DeployFailed("The agent has no local source to run")
        root = self.config.agents_root.resolve()
        base = self.config.base_dir or root.parent
        path = Path(source) if Path(source).is_absolute() else base / source
        try:
            directory = path.resolve(strict=True)  # follows symlinks, removes `..`
        except (OSError, RuntimeError):
            raise DeployFailed(f"No agent directory at {source!r}") from None
        if directory.parent != root or not directory.is_dir():
            raise DeployFailed(f"{source!r} is not a directory directly under the agents root")
        return directory

    def _env(
        self, directory: Path, module: str, spec: DeploySpec, port: int, url: str
    ) -> dict[str, str]:
        """A minimal base, the agent's own env, then what the runtime decides (port, URL)."""
        env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
        env.setdefault("PATH", os.defpath)
        env["PYTHONUNBUFFERED"] = "1"  # its log must be current when a failure shows its tail
        if sys.prefix != sys.base_prefix:  # informational: the venv's interpreter finds its own
            env["VIRTUAL_ENV"] = sys.prefix
        roots = [*self.config.python_path, *_import_roots(directory, module)]
        if roots:
            env["PYTHONPATH"] = os.pathsep.join(str(root) for root in roots)
        env.update(dict(self.config.agent_env))
        env.update(spec.env)
        env["PORT"] = str(port)
        # The SDK's default is every interface, as a container needs; here it is loopback.
        env["AGORA_AGENT_HOST"] = self.config.host
        env["AGORA_AGENT_PUBLIC_URL"] = url
        return env

    async def _wait_healthy(
        self, agent: AgentProcess, url: str, label: str, secrets: Collection[str]
    ) -> None:
        """Poll GET /health until 200; fail fast if the process exits, or at the deadline."""
        deadline = time.monotonic() + self.config.start_timeout_s
        delay = 0.05
        while True:
            code = agent.exit_code()
            if code is not None:
                raise self._failed(agent, label, f"exited with code {code}", secrets)
            try:
                response = await self.http.get(
                    f"{url}/health", timeout=self.config.health_timeout_s
                )
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            if time.monotonic() >= deadline:
                limit = self.config.start_timeout_s
                raise self._failed(agent, label, f"was not healthy within {limit:g} s", secrets)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    @staticmethod
    def _failed(
        agent: AgentProcess, label: str, what: str, secrets: Collection[str]
    ) -> DeployFailed:
        """DeployFailed with the tail of this run's log, every env value scrubbed."""
        tail = scrub(agent.log_tail(), secrets)
        message = f"Agent {label} {what}"
        return DeployFailed(f"{message}; last lines of its log:\n{tail}" if tail else message)


def _module_for(directory: Path) -> str:
    """`agents/quant-flow` runs as `agora_quant_flow`."""
    module = "agora_" + directory.name.replace("-", "_")
    if not _MODULE.fullmatch(module):
        raise DeployFailed(f"{directory.name!r} is not a valid agent directory name")
    return module


def _import_roots(directory: Path, module: str) -> list[Path]:
    """Where the agent's package lives when it is not installed: `src/` or the directory itself."""
    return [root for root in (directory / "src", directory) if (root / module).is_dir()][:1]
