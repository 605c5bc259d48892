"""`make dev`: the emulators, then all seven services on fixed ports, then demo accounts.

Each service's local settings come from `agora_devstack.fleetspec.LocalFleet`, the one description
of the fleet that the tests and the benchmarks use too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from agora_auth.settings import DEFAULT_LOCAL_KEK_FILE
from agora_common.signing.settings import DEFAULT_LOCAL_SIGNING_KEY_FILE
from agora_devstack.accounts import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    create_demo_accounts,
    grant_demo_admins,
)
from agora_devstack.console import DEFAULT_PORT as CONSOLE_PORT
from agora_devstack.emulators import EmulatorPorts, EmulatorSuite, repo_root
from agora_devstack.fleetspec import (
    DEFAULT_PORTS,
    HOST,
    PROJECT_ID,
    SERVICES,
    DevKey,
    LocalFleet,
    peers_of,
)
from agora_devstack.processes import (
    Child,
    Supervisor,
    SupervisorError,
    ensure_port_free,
    free_ports,
    http_ready,
)
from agora_devstack.seeding import DEMO_OWNER, SeededAgent, Seeder, sign_in

__all__ = ["DEFAULT_PORTS", "HOST", "PROJECT_ID", "SERVICES", "Fleet", "main", "peers_of"]

STATE_FILE = "fleet.json"


class Fleet:
    """The emulators and the seven services, started in order and stopped as one."""

    def __init__(
        self,
        *,
        service_ports: Mapping[str, int],
        emulator_ports: EmulatorPorts,
        log_dir: Path,
        console_port: int = CONSOLE_PORT,
    ) -> None:
        self.service_ports = dict(service_ports)
        self.console_port = console_port
        self.console_url = f"http://localhost:{console_port}"
        self.log_dir = log_dir
        self.emulators = EmulatorSuite(emulator_ports, project_id=PROJECT_ID, log_dir=log_dir)
        # Services log beside the emulators, in their own folder (the Auth emulator is `auth` too).
        self.supervisor = Supervisor(log_dir / "services")
        self.spec = LocalFleet(
            self.emulators.env(),
            self.service_ports,
            DevKey.make(repo_root() / ".local" / "iam"),
            # The agents' logs go beside the services'; the API keys' KEK outlives the run.
            state_dir=log_dir,
            project_id=PROJECT_ID,
            kek_file=repo_root() / DEFAULT_LOCAL_KEK_FILE,
            signing_key_file=repo_root() / DEFAULT_LOCAL_SIGNING_KEY_FILE,
            console_origins=(self.console_url, f"http://{HOST}:{console_port}"),
        )
        self.agents: list[SeededAgent] = []

    def url(self, name: str) -> str:
        return self.spec.url(name)

    def start(self) -> None:
        ports = {**{f"{name} service": p for name, p in self.service_ports.items()}}
        for label, port in (ports | {"web console": self.console_port}).items():
            ensure_port_free(HOST, port, label, "stop what holds it (another make dev?)")
        self.emulators.start()
        emulator_env = self.emulators.env()
        for name in SERVICES:
            self.supervisor.start(
                name,
                [sys.executable, "-m", f"agora_{name}"],
                env=self.spec.env_for(name),
                ready=http_ready(f"{self.url(name)}/readyz", ok=lambda status: status == 200),
                timeout=30.0,
                wait=False,
                label=f"{name} service",
            )
        self._start_console(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"])
        self.supervisor.wait_ready()
        create_demo_accounts(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT_ID)
        grant_demo_admins(self.spec.env_for("auth"))
        self.agents = self._seed_agents(emulator_env)
        self._write_state(emulator_env)

    def _start_console(self, auth_emulator: str) -> None:
        """The built console (web/dist), served as Firebase Hosting would serve it."""
        self.supervisor.start(
            "console",
            [
                sys.executable,
                "-m",
                "agora_devstack.console",
                f"--port={self.console_port}",
                f"--gateway={self.url('gateway')}",
                f"--auth-emulator={auth_emulator}",
                f"--project={PROJECT_ID}",
            ],
            env={},
            ready=http_ready(
                f"http://{HOST}:{self.console_port}/config.json", ok=lambda s: s == 200
            ),
            timeout=15.0,
            wait=False,
            label="web console",
        )

    def _seed_agents(self, emulator_env: Mapping[str, str]) -> list[SeededAgent]:
        """Genesis and QuantFlow, registered by the demo user, vetted, deployed and active."""
        seeder = Seeder(
            gateway=self.url("gateway"),
            registry=self.url("registry"),
            executor=self.url("executor"),
            key_file=self.spec.key.key_file,
            project_id=PROJECT_ID,
        )
        token = sign_in(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], DEMO_OWNER)
        return seeder.seed(token)

    def _write_state(self, emulator_env: Mapping[str, str]) -> None:
        children = self._children()
        state = {
            "services": {name: self.url(name) for name in SERVICES},
            "console": self.console_url,
            "emulators": dict(emulator_env),
            "pids": {name: {"pid": c.pid, "pgid": c.pgid} for name, c in children.items()},
            "dev_key_file": str(self.spec.key.key_file),
            "project_id": PROJECT_ID,
            "agents": {a.folder: {"id": a.agent_id, "url": a.url} for a in self.agents},
        }
        (self.log_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    def _children(self) -> dict[str, Child]:
        """Every child, keyed by kind and name (the Auth emulator and service are both `auth`)."""
        emulators = {f"emulator:{n}": c for n, c in self.emulators.children.items()}
        return emulators | {f"service:{n}": c for n, c in self.supervisor.children.items()}

    def failed(self) -> str | None:
        """The name of the first child that exited, if any."""
        for name, child in self._children().items():
            if not child.running():
                return name
        return None

    def stop(self) -> None:
        self.supervisor.stop_all()
        self.emulators.stop()
        (self.log_dir / STATE_FILE).unlink(missing_ok=True)


def _banner(fleet: Fleet) -> str:
    auth = fleet.emulators.env()["FIREBASE_AUTH_EMULATOR_HOST"]
    lines = ["", "Agora is running locally.", "", f"  {'console':<10} {fleet.console_url}"]
    lines += [f"  {name:<10} {fleet.url(name)}" for name in SERVICES]
    lines += ["", "  emulators  " + "  ".join(f"{k}={v}" for k, v in fleet.emulators.env().items())]
    lines += ["", "Demo accounts (password: " + DEMO_PASSWORD + "):"]
    lines += [f"  {acct.email:<20} {acct.role}" for acct in DEMO_ACCOUNTS]
    lines += [
        "",
        "Sign in as the demo user and keep the ID token:",
        f"  TOKEN=$(curl -s 'http://{auth}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithPassword?key=demo' -H 'content-type: application/json' \\",
        f'    -d \'{{"email":"user@agora.local","password":"{DEMO_PASSWORD}",'
        '"returnSecureToken":true}\' | jq -r .idToken)',
        "",
        "Demo agents (active, deployed as local processes):",
        *[f"  {agent.folder:<10} {agent.agent_id}  {agent.url}" for agent in fleet.agents],
        "",
        "Price an option with QuantFlow:",
        f"  curl -s -X POST {fleet.url('gateway')}/api/v1/agents/execute \\",
        "    -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\",
        f'    -d \'{{"agent_id":"{_agent_id(fleet, "quantflow")}","tool_name":"black_scholes",'
        '"payload":{"spot":100,"strike":100,"time_to_expiry":1,"rate":0.05,"volatility":0.2}}\'',
        "",
        f"Logs: {fleet.log_dir}    Stop: Ctrl-C",
        "",
    ]
    return "\n".join(lines)


def _agent_id(fleet: Fleet, folder: str) -> str:
    return next((agent.agent_id for agent in fleet.agents if agent.folder == folder), "?")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m agora_devstack.fleet", description="Run the Agora fleet locally."
    )
    parser.add_argument(
        "--free-ports",
        action="store_true",
        help="put every service and emulator on a free port (for tests and parallel runs)",
    )
    parser.add_argument("--log-dir", type=Path, help="where logs go (default .local/logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    log_dir = args.log_dir or repo_root() / ".local" / "logs"
    if args.free_ports:
        *ports, console_port = free_ports(len(SERVICES) + 1)
        service_ports = dict(zip(SERVICES, ports, strict=True))
        emulator_ports = EmulatorPorts.free()
    else:
        service_ports, emulator_ports = DEFAULT_PORTS, EmulatorPorts()
        console_port = CONSOLE_PORT
    fleet = Fleet(
        service_ports=service_ports,
        emulator_ports=emulator_ports,
        log_dir=log_dir,
        console_port=console_port,
    )
    print("Starting the emulators and the seven services (first start: ~20 s)...", flush=True)
    try:
        fleet.start()
        print(_banner(fleet), flush=True)
        while (gone := fleet.failed()) is None:
            time.sleep(0.5)
        print(f"agora: {gone} exited; its log is under {log_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    except SupervisorError as error:
        print(f"agora: {error}", file=sys.stderr)
        return 1
    finally:
        fleet.stop()


if __name__ == "__main__":
    sys.exit(main())
