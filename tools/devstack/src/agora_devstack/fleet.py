"""`make dev`: the emulators, then all seven services on fixed ports, then demo accounts.

Who calls whom comes from the services' own allowlists: service X is given service Y's URL when Y
allows X to call it, so the local wiring cannot drift from what the services enforce.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agora_analytics.settings import AnalyticsSettings
from agora_auth.settings import DEFAULT_LOCAL_KEK_FILE, AuthSettings
from agora_common.iam.tokens import generate_dev_key
from agora_common.settings import LOCAL_DEV_ISSUER, ServiceSettings
from agora_devstack.accounts import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    create_demo_accounts,
    grant_demo_admins,
)
from agora_devstack.emulators import EmulatorPorts, EmulatorSuite, repo_root
from agora_devstack.processes import (
    Child,
    Supervisor,
    SupervisorError,
    ensure_port_free,
    free_ports,
    http_ready,
)
from agora_devstack.seeding import DEMO_OWNER, SeededAgent, Seeder, sign_in
from agora_executor.settings import ExecutorSettings
from agora_gateway.settings import GatewaySettings
from agora_registry.settings import RegistrySettings
from agora_tool.settings import ToolSettings
from agora_vetting.settings import VettingSettings

HOST = "127.0.0.1"
PROJECT_ID = "demo-agora"
STATE_FILE = "fleet.json"

SERVICES: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "registry": RegistrySettings,
    "auth": AuthSettings,
    "executor": ExecutorSettings,
    "tool": ToolSettings,
    "analytics": AnalyticsSettings,
    "vetting": VettingSettings,
}
DEFAULT_PORTS = {name: 8080 + index for index, name in enumerate(SERVICES)}


def peers_of(caller: str) -> list[str]:
    """The services that allow `caller` on their internal routes."""
    return [name for name, cls in SERVICES.items() if caller in cls.allowed_caller_services]


@dataclass(frozen=True)
class LocalPaths:
    key_file: Path
    jwks_file: Path
    # Where the run's logs go; the executor's agents log under it too.
    log_dir: Path | None = None


def service_env(
    name: str,
    ports: Mapping[str, int],
    paths: LocalPaths,
    emulator_env: Mapping[str, str],
    *,
    project_id: str = PROJECT_ID,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment of one service in local mode, under its own prefix.

    `ports` names the services that run: each is given the URLs of the running services that
    allow it to call them. `overrides` are further settings, unprefixed (e.g. LOG_LEVEL).
    """
    prefix = f"AGORA_{name.upper()}_"
    own_url = f"http://{HOST}:{ports[name]}"
    settings = {
        "ENV": "local",
        "PROJECT_ID": project_id,
        "IAM_DEV_KEY_FILE": str(paths.key_file),
        "IAM_JWKS_URL": paths.jwks_file.as_uri(),
        "IAM_ISSUERS": json.dumps([LOCAL_DEV_ISSUER]),
        "IAM_AUDIENCES": json.dumps([own_url, f"http://localhost:{ports[name]}"]),
        "SERVICE_URLS": json.dumps(
            {peer: f"http://{HOST}:{ports[peer]}" for peer in peers_of(name) if peer in ports}
        ),
        "REDIS_URL": emulator_env["REDIS_URL"],
    }
    if name == "gateway":
        settings["TRUSTED_PROXY_HOPS"] = "0"  # nothing in front of it locally: use the peer
    if name == "auth":  # the API keys' local key-encryption key, whatever the working directory
        settings["LOCAL_KEK_FILE"] = str(repo_root() / DEFAULT_LOCAL_KEK_FILE)
    # Egress admits the agents the executor's local runtime started, and nothing else local.
    if name == "executor":  # agents run here as processes, on loopback addresses
        settings["LOCAL_AGENTS_ROOT"] = str(repo_root() / "agents")
        if paths.log_dir is not None:
            settings["LOCAL_LOG_DIR"] = str(paths.log_dir / "agents")
    if name == "vetting":  # scans read local sources; tasks come back from the emulator
        settings["AGENTS_ROOT"] = str(repo_root() / "agents")
        settings["TASKS_TARGET_URL"] = own_url
        # The emulator sends no OIDC token: tasks carry this run's credential instead.
        settings["LOCAL_TASK_CREDENTIAL"] = secrets.token_urlsafe(32)
    settings.update(overrides or {})
    env = {f"{prefix}{key}": value for key, value in settings.items()}
    env["PORT"] = str(ports[name])
    env.update(emulator_env)
    return env


class Fleet:
    """The emulators and the seven services, started in order and stopped as one."""

    def __init__(
        self,
        *,
        service_ports: Mapping[str, int],
        emulator_ports: EmulatorPorts,
        log_dir: Path,
    ) -> None:
        self.service_ports = dict(service_ports)
        self.log_dir = log_dir
        self.emulators = EmulatorSuite(emulator_ports, project_id=PROJECT_ID, log_dir=log_dir)
        # Services log beside the emulators, in their own folder (the Auth emulator is `auth` too).
        self.supervisor = Supervisor(log_dir / "services")
        key_file = repo_root() / ".local" / "iam" / "dev-signer.pem"
        self.paths = LocalPaths(key_file, generate_dev_key(key_file), log_dir)
        self.agents: list[SeededAgent] = []

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.service_ports[name]}"

    def start(self) -> None:
        for name, port in self.service_ports.items():
            ensure_port_free(
                HOST, port, f"{name} service", "stop what holds it (another make dev?)"
            )
        self.emulators.start()
        emulator_env = self.emulators.env()
        for name in SERVICES:
            self.supervisor.start(
                name,
                [sys.executable, "-m", f"agora_{name}"],
                env=service_env(name, self.service_ports, self.paths, emulator_env),
                ready=http_ready(f"{self.url(name)}/readyz", ok=lambda status: status == 200),
                timeout=30.0,
                wait=False,
                label=f"{name} service",
            )
        self.supervisor.wait_ready()
        create_demo_accounts(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT_ID)
        grant_demo_admins(service_env("auth", self.service_ports, self.paths, emulator_env))
        self.agents = self._seed_agents(emulator_env)
        self._write_state(emulator_env)

    def _seed_agents(self, emulator_env: Mapping[str, str]) -> list[SeededAgent]:
        """Genesis and QuantFlow, registered by the demo user, vetted, deployed and active."""
        seeder = Seeder(
            gateway=self.url("gateway"),
            registry=self.url("registry"),
            executor=self.url("executor"),
            key_file=self.paths.key_file,
            project_id=PROJECT_ID,
        )
        token = sign_in(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], DEMO_OWNER)
        return seeder.seed(token)

    def _write_state(self, emulator_env: Mapping[str, str]) -> None:
        children = self._children()
        state = {
            "services": {name: self.url(name) for name in SERVICES},
            "emulators": dict(emulator_env),
            "pids": {name: {"pid": c.pid, "pgid": c.pgid} for name, c in children.items()},
            "dev_key_file": str(self.paths.key_file),
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
    lines = ["", "Agora is running locally.", ""]
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
        service_ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        emulator_ports = EmulatorPorts.free()
    else:
        service_ports, emulator_ports = DEFAULT_PORTS, EmulatorPorts()
    fleet = Fleet(service_ports=service_ports, emulator_ports=emulator_ports, log_dir=log_dir)
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
