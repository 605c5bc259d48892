"""What every emulator kind shares: the ports of a run, its context, and the shape of a spec."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

from agora_devstack.errors import ToolMissingError
from agora_devstack.probes import ReadyCheck, free_ports

__all__ = [
    "BQEMULATOR_VENV",
    "CLOUDTASKS_VENV",
    "HOST",
    "SOURCE_BUCKET",
    "EmulatorPorts",
    "EmulatorSpec",
    "Launch",
    "RunContext",
    "port_flag",
    "repo_root",
    "require_node",
]

HOST = "127.0.0.1"
# The BigQuery emulator's own environment, relative to the repository root (`make install`).
BQEMULATOR_VENV = Path("tools", "bqemulator", ".venv")
# The Cloud Tasks emulator's own environment, relative to the repository root (`make install`).
CLOUDTASKS_VENV = Path("tools", "cloudtasks", ".venv")
# The bucket the Cloud Storage emulator creates at start: where the local services keep sources.
SOURCE_BUCKET = "agora-sources"


@cache
def repo_root() -> Path:
    """The repository root: the package's nearest ancestor with firebase.json, else git's."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "firebase.json").is_file() and (parent / "pyproject.toml").is_file():
            return parent
    # Installed outside the repository (not editable): fall back to the checkout we are run from.
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 - git from PATH is intended
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return Path.cwd()
    return Path(top)


@dataclass(frozen=True)
class EmulatorPorts:
    """TCP ports on 127.0.0.1; the defaults match the repository's firebase.json (`make dev`)."""

    firestore: int = 8200
    auth: int = 9099
    redis: int = 6379
    # The Firebase emulator hub and logging emulator come with the Auth emulator; parallel runs
    # collide on them unless they move too.
    hub: int = 4400
    logging: int = 4500
    # BigQuery: REST (what clients use) and gRPC (the Storage Read/Write APIs).
    bigquery: int = 9050
    bigquery_grpc: int = 9060
    # Cloud Tasks: gRPC.
    tasks: int = 8123
    # Cloud Storage: its JSON API over plain http (the emulator package's default port).
    storage: int = 9023

    @classmethod
    def free(cls) -> EmulatorPorts:
        """All ports picked free by the OS (for tests that run side by side)."""
        return cls(*free_ports(len(fields(cls)), HOST))


@dataclass(frozen=True)
class RunContext:
    """What an emulator spec needs to know about this run."""

    ports: EmulatorPorts
    project_id: str
    node_modules: Path
    state_dir: Path
    bqemulator_venv: Path = field(default_factory=lambda: repo_root() / BQEMULATOR_VENV)
    cloudtasks_venv: Path = field(default_factory=lambda: repo_root() / CLOUDTASKS_VENV)


@dataclass(frozen=True)
class Launch:
    """How to start one emulator."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None = None


@dataclass(frozen=True)
class EmulatorSpec:
    """One emulator: its ports, how to start it, when it is ready and the env clients need."""

    name: str
    label: str
    port_fields: tuple[str, ...]  # EmulatorPorts fields it binds; the first is the client port
    launch: Callable[[RunContext], Launch]  # raises ToolMissingError with an install hint
    ready: Callable[[RunContext], ReadyCheck]
    env: Callable[[RunContext], dict[str, str]]
    timeout: float  # seconds to wait for readiness

    def port(self, ports: EmulatorPorts) -> int:
        """Its client port."""
        return int(getattr(ports, self.port_fields[0]))


def require_node(ctx: RunContext, package: str, marker: str) -> str:
    """Path of node, after checking that `package` is installed in node_modules."""
    node = shutil.which("node")
    if node is None:
        raise ToolMissingError(
            "node not found on PATH; install Node.js 20, then run `make install`"
        )
    if not (ctx.node_modules / marker).exists():
        raise ToolMissingError(
            f"npm package {package} not found in {ctx.node_modules}; run `make install`"
        )
    return node


def port_flag(port_field: str) -> str:
    """The CLI flag that sets an EmulatorPorts field (bigquery_grpc: --bigquery-grpc-port)."""
    return f"--{port_field.replace('_', '-')}-port"
