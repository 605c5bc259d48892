"""EmulatorSuite: one run's emulators, started together, awaited together, stopped as one."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from agora_devstack.emulator_base import (
    BQEMULATOR_VENV,
    CLOUDTASKS_VENV,
    HOST,
    EmulatorPorts,
    RunContext,
    port_flag,
    repo_root,
)
from agora_devstack.emulator_kinds import EMULATORS
from agora_devstack.processes import Child, StartError, Supervisor, ensure_port_free

__all__ = ["PID_FILE_NAME", "EmulatorSuite"]

PID_FILE_NAME = "emulators.pids.json"


class EmulatorSuite:
    """One run's emulators, as a context manager: start() awaits readiness; stop() is idempotent."""

    def __init__(
        self,
        ports: EmulatorPorts | None = None,
        project_id: str = "demo-agora",
        log_dir: Path | None = None,
        only: Iterable[str] | None = None,
        *,
        node_modules: Path | None = None,
        bqemulator_venv: Path | None = None,
        cloudtasks_venv: Path | None = None,
        state_dir: Path | None = None,
        grace: float = 5.0,
    ) -> None:
        unknown = set(only or ()) - set(EMULATORS)
        if unknown:
            known = ", ".join(EMULATORS)
            raise ValueError(f"unknown emulator(s) {', '.join(sorted(unknown))}; known: {known}")
        self.ports = ports or EmulatorPorts()
        self.project_id = project_id
        self.log_dir = Path(log_dir) if log_dir else repo_root() / ".local" / "logs"
        self.node_modules = Path(node_modules) if node_modules else repo_root() / "node_modules"
        self.bqemulator_venv = (
            Path(bqemulator_venv) if bqemulator_venv else repo_root() / BQEMULATOR_VENV
        )
        self.cloudtasks_venv = (
            Path(cloudtasks_venv) if cloudtasks_venv else repo_root() / CLOUDTASKS_VENV
        )
        self.specs = [spec for name, spec in EMULATORS.items() if only is None or name in only]
        self._state_dir_arg = state_dir
        self._state_dir: Path | None = None
        self._owns_state_dir = False
        self._supervisor = Supervisor(self.log_dir, grace=grace)
        self._check_distinct_ports()

    @property
    def names(self) -> list[str]:
        """Names of the emulators this suite runs, in start order."""
        return [spec.name for spec in self.specs]

    @property
    def children(self) -> dict[str, Child]:
        """The running children, by emulator name."""
        return self._supervisor.children

    @property
    def pid_file(self) -> Path:
        """JSON file naming each child's PID and process group while the suite runs."""
        return self.log_dir / PID_FILE_NAME

    def port(self, name: str) -> int:
        """Client port of emulator `name`."""
        return EMULATORS[name].port(self.ports)

    def _check_distinct_ports(self) -> None:
        used: dict[int, str] = {}
        for spec in self.specs:
            for port_field in spec.port_fields:
                port = getattr(self.ports, port_field)
                if port in used:
                    raise ValueError(f"port {port} given for both {used[port]} and {port_field}")
                used[port] = port_field

    def _context(self) -> RunContext:
        assert self._state_dir is not None
        return RunContext(
            self.ports,
            self.project_id,
            self.node_modules,
            self._state_dir,
            self.bqemulator_venv,
            self.cloudtasks_venv,
        )

    def start(self) -> Self:
        """Start every emulator and wait until all are ready; on failure stop them and raise."""
        # Check everything before starting anything: a one-line error beats a half-started suite.
        for spec in self.specs:
            for port_field in spec.port_fields:
                what = (
                    spec.label
                    if port_field == spec.port_fields[0]
                    else f"{spec.label} ({port_field})"
                )
                hint = f"stop what holds it or pick another with {port_flag(port_field)}"
                ensure_port_free(HOST, getattr(self.ports, port_field), what, hint)
        self._make_state_dir()
        try:
            ctx = self._context()
            launches = [(spec, spec.launch(ctx)) for spec in self.specs]
            started = [
                self._supervisor.start(
                    spec.name,
                    launch.argv,
                    env=launch.env,
                    cwd=launch.cwd,
                    ready=spec.ready(ctx),
                    timeout=spec.timeout,
                    wait=False,  # start them all, then wait: readiness overlaps
                    label=spec.label,
                )
                for spec, launch in launches
            ]
            self._supervisor.wait_ready(started)
            self._write_pid_file()
        except BaseException as error:
            # A child that ran and failed may have left firebase-debug.log in the state dir.
            self.stop(keep_state=isinstance(error, StartError))
            raise
        return self

    def _make_state_dir(self) -> None:
        if self._state_dir_arg is not None:
            self._state_dir = Path(self._state_dir_arg)
            self._state_dir.mkdir(parents=True, exist_ok=True)
            return
        base = repo_root() / ".local" / "state"
        base.mkdir(parents=True, exist_ok=True)
        self._state_dir = Path(tempfile.mkdtemp(prefix="emulators-", dir=base))
        self._owns_state_dir = True

    def _write_pid_file(self) -> None:
        pids = {
            name: {"pid": child.pid, "pgid": child.pgid} for name, child in self.children.items()
        }
        self.pid_file.write_text(json.dumps(pids, indent=2) + "\n")

    def stop(self, *, keep_state: bool = False) -> None:
        """Stop every emulator and its whole process tree. Idempotent.

        keep_state keeps the run's state dir (generated firebase config, firebase-debug.log).
        """
        self._supervisor.stop_all()
        # Only a suite that started something owns the PID file; another run may share log_dir.
        with contextlib.suppress(OSError):
            if self.children and self.pid_file.is_file():
                self.pid_file.unlink()
        if self._owns_state_dir and self._state_dir is not None and not keep_state:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
            self._owns_state_dir = False

    def failed(self) -> Child | None:
        """The first emulator that has exited, if any."""
        return next((child for child in self.children.values() if not child.running()), None)

    def env(self) -> dict[str, str]:
        """Environment variables that point clients (Google SDKs, firebase-admin, redis) here."""
        ctx = RunContext(
            self.ports,
            self.project_id,
            self.node_modules,
            Path(),
            self.bqemulator_venv,
            self.cloudtasks_venv,
        )
        env = {"GOOGLE_CLOUD_PROJECT": self.project_id}
        for spec in self.specs:
            env.update(spec.env(ctx))
        return env

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
