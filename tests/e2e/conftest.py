"""The public API for real: Auth-emulator users → gateway → registry → Firestore emulator."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from agora_analytics.app import create_app as create_analytics
from agora_analytics.settings import AnalyticsSettings
from agora_auth.app import create_app as create_auth
from agora_auth.settings import AuthSettings
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.identity import identity_headers
from agora_common.models import UserIdentity
from agora_devstack.emulators import repo_root
from agora_devstack.fleetspec import DevKey, LocalFleet
from agora_executor.app import create_app as create_executor
from agora_executor.repository import ExecutorRepository
from agora_executor.settings import ExecutorSettings
from agora_gateway.app import create_app as create_gateway
from agora_gateway.settings import GatewaySettings
from agora_registry.app import create_app as create_registry
from agora_registry.settings import RegistrySettings
from agora_tool.app import create_app as create_tool
from agora_tool.settings import ToolSettings
from agora_vetting.app import create_app as create_vetting
from agora_vetting.settings import VettingSettings
from tests.support.factories import signer_for
from tests.support.firebase import AuthEmulator, EmulatorUser
from tests.support.servers import free_port, serving

PROJECT = "demo-agora-test"


def _port(url: str) -> int:
    return int(urlsplit(url).port or 0)


SOURCE_SKIP = shutil.ignore_patterns("__pycache__", ".venv", "*.egg-info")


def copy_source(origin: Path, target: Path) -> Path:
    """An agent's source where a scan or the local runtime reads it: copied once, then reused
    by every test that needs it."""
    if not target.exists():
        shutil.copytree(origin, target, ignore=SOURCE_SKIP)
    return target


@dataclass
class Stack:
    gateway: str
    registry: str
    registry_port: int
    key_file: Path
    jwks_file: Path
    emulator_env: dict[str, str]
    auth: AuthEmulator
    auth_service: str
    state_dir: Path
    executor: str = ""
    analytics: str = ""
    vetting: str = ""
    tool: str = ""
    task_credential: str = "e2e-task-credential"
    # Loopback ports the tests' stand-in agents use: the executor admits them by name
    # (`egress_local_endpoints`), as it admits the agents its own runtime starts.
    agent_ports: tuple[int, ...] = ()
    # Where a test serves a REST API that generated tools call: agents may reach it.
    upstream_port: int = 0
    # The stack's own gateway, known before it starts: the registry names it in exported cards.
    gateway_port: int = 0

    @property
    def agent_endpoints(self) -> tuple[str, ...]:
        return tuple(f"127.0.0.1:{port}" for port in self.agent_ports)

    def api(self, path: str) -> str:
        return f"{self.gateway}/api/v1{path}"

    def place_source(self, name: str, origin: Path | None = None) -> Path:
        """`agents/<name>` where vetting reads sources: the repository's agent of that name, or
        `origin`."""
        root = self.vetting_settings().agents_root
        return copy_source(origin or repo_root() / "agents" / name, root / name)

    def set_status(self, agent_id: str, *statuses: str) -> None:
        """Move an agent along the status machine as the vetting service does."""
        signer = signer_for(self.key_file, "vetting", PROJECT)
        for status in statuses:
            response = httpx.post(
                f"{self.registry}/internal/agents/{agent_id}/status",
                json={"status": status, "reason": "e2e"},
                headers={"authorization": f"Bearer {signer.sign(self.registry)}"},
            )
            assert response.status_code == 200, response.text

    @property
    def fleet(self) -> LocalFleet:
        """The stack's services as one local fleet (the gateway moves: each test serves its own)."""
        urls = {
            "registry": self.registry,
            "auth": self.auth_service,
            "executor": self.executor,
            "analytics": self.analytics,
            "vetting": self.vetting,
            "tool": self.tool,
        }
        ports = {name: _port(url) for name, url in urls.items() if url}
        if self.gateway_port:
            ports["gateway"] = self.gateway_port
        return LocalFleet(
            self.emulator_env,
            ports,
            DevKey(self.key_file, self.jwks_file),
            self.state_dir,
            project_id=PROJECT,
            task_credential=self.task_credential,
            agent_endpoints=self.agent_endpoints,
        )

    def gateway_settings(self, **overrides: Any) -> GatewaySettings:
        port = overrides.pop("port", free_port())
        # Revocation seen at once, so tests can take a role away and watch it go.
        quick = {"revocation_ttl_s": 0}
        return self.fleet.moved(gateway=port).settings(GatewaySettings, **(quick | overrides))

    def serve_gateway(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.gateway_settings(**overrides)
        return serving(create_gateway(settings), settings.port)

    def registry_settings(self) -> RegistrySettings:
        return self.fleet.settings(RegistrySettings)

    def serve_registry(self) -> AbstractContextManager[str]:
        return serving(create_registry(self.registry_settings()), self.registry_port)

    def auth_settings(self) -> AuthSettings:
        return self.fleet.settings(AuthSettings)

    def serve_auth(self) -> AbstractContextManager[str]:
        settings = self.auth_settings()
        return serving(create_auth(settings), settings.port)

    def executor_settings(self, url: str, **overrides: Any) -> ExecutorSettings:
        egress = {"local_agent_egress": (f"127.0.0.1:{self.upstream_port}",)}
        # A token's month-to-date spend is reused for 1 s, so limits bite within a test's wait.
        quick = {"spend_cache_ttl_s": 1.0}
        return self.fleet.moved(executor=_port(url)).settings(
            ExecutorSettings, **(egress | quick | overrides)
        )

    def serve_executor(self, **overrides: Any) -> AbstractContextManager[str]:
        """An executor; the stack's own unless `port` names another."""
        port = overrides.pop("port", None) or _port(self.executor)
        url = f"http://127.0.0.1:{port}"
        return serving(create_executor(self.executor_settings(url, **overrides)), port)

    def deployed_endpoint(self, agent_id: str) -> str:
        """`address:port` where the stack's executor runs an agent now.

        Another executor did not start it, so it admits the agent only by this endpoint; an
        earlier test may have deployed the agent again, elsewhere.
        """

        async def read() -> dict[str, Any] | None:
            settings = self.executor_settings(self.executor)
            db = make_firestore_client(settings)
            try:
                repository = ExecutorRepository(db, timeout_s=settings.dependency_timeout_s)
                return await repository.get_deployment(agent_id)
            finally:
                await close_firestore_client(db)

        deployment = asyncio.run(read())
        assert deployment is not None, f"agent {agent_id} is not deployed"
        return str(urlsplit(str(deployment["url"])).netloc)

    def analytics_settings(self, **overrides: Any) -> AnalyticsSettings:
        quick = {"bigquery_retry_deadline_s": 1.0}
        return self.fleet.settings(AnalyticsSettings, **(quick | overrides))

    def serve_analytics(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.analytics_settings(**overrides)
        return serving(create_analytics(settings), _port(self.analytics))

    def vetting_settings(self, **overrides: Any) -> VettingSettings:
        # Scans read the sources the suite copies into its own folder, and probe the tests'
        # stand-in agents as the executor calls them.
        own = {
            "agents_root": self.state_dir / "sources" / "agents",
            "scan_timeout_s": 120.0,
            "egress_local_endpoints": self.agent_endpoints,
        }
        return self.fleet.settings(VettingSettings, **(own | overrides))

    def serve_vetting(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.vetting_settings(**overrides)
        return serving(create_vetting(settings), _port(self.vetting))

    def tool_settings(self, **overrides: Any) -> ToolSettings:
        # The test's upstream also stands in for an LLM provider's API (the Factory's llm kind).
        upstream = f"127.0.0.1:{self.upstream_port}"
        own = {
            "reconcile_interval_s": 0,
            "llm_base_urls": {"openai": f"http://{upstream}"},
            "egress_local_endpoints": (upstream,),
        }
        return self.fleet.settings(ToolSettings, **(own | overrides))

    def serve_tool(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.tool_settings(**overrides)
        return serving(create_tool(settings), _port(self.tool))

    def as_service(
        self, service: str, base: str, user: UserIdentity | None = None
    ) -> dict[str, str]:
        """Headers of a direct call to a service at `base`: a token for `service`, and identity
        headers when a user is given (honoured only from the gateway)."""
        token = signer_for(self.key_file, service, PROJECT).sign(base)
        return {"authorization": f"Bearer {token}"} | (identity_headers(user) if user else {})


@pytest.fixture(scope="package")
def stack(
    emulator_env: dict[str, str],
    dev_key: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    key_file, jwks = dev_key
    registry_port = free_port()
    partial = Stack(
        gateway="",
        registry=f"http://127.0.0.1:{registry_port}",
        registry_port=registry_port,
        key_file=key_file,
        jwks_file=jwks,
        emulator_env=emulator_env,
        auth=AuthEmulator(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT),
        auth_service=f"http://127.0.0.1:{free_port()}",
        state_dir=tmp_path_factory.mktemp("auth-state"),
        executor=f"http://127.0.0.1:{free_port()}",
        analytics=f"http://127.0.0.1:{free_port()}",
        vetting=f"http://127.0.0.1:{free_port()}",
        tool=f"http://127.0.0.1:{free_port()}",
        agent_ports=(free_port(), free_port()),
        upstream_port=free_port(),
        gateway_port=free_port(),
    )
    with (
        partial.serve_registry(),
        partial.serve_analytics(),
        partial.serve_vetting(),
        partial.serve_tool(),
        partial.serve_auth(),
        partial.serve_executor(),
        partial.serve_gateway(port=partial.gateway_port) as gateway,
    ):
        partial.gateway = gateway
        yield partial


@pytest.fixture(scope="package")
def people(stack: Stack) -> dict[str, EmulatorUser]:
    """Real Auth-emulator accounts: an owner, another user and an admin."""
    return {
        "owner": stack.auth.sign_up(name="owner"),
        "other": stack.auth.sign_up(name="other"),
        "admin": stack.auth.sign_up(name="admin", admin=True),
    }


def unique_name(prefix: str = "Agent") -> str:
    return f"{prefix}{secrets.token_hex(4)}"
