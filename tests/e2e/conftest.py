"""The public API for real: Auth-emulator users → gateway → registry → Firestore emulator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_analytics.app import create_app as create_analytics
from agora_analytics.settings import AnalyticsSettings
from agora_auth.app import create_app as create_auth
from agora_auth.settings import AuthSettings
from agora_common.identity import identity_headers
from agora_common.models import UserIdentity
from agora_devstack.emulators import repo_root
from agora_executor.app import create_app as create_executor
from agora_executor.settings import ExecutorSettings
from agora_gateway.app import create_app as create_gateway
from agora_gateway.settings import GatewaySettings
from agora_registry.app import create_app as create_registry
from agora_registry.settings import RegistrySettings
from agora_vetting.app import create_app as create_vetting
from agora_vetting.settings import VettingSettings
from tests.support.factories import local_settings_kwargs, signer_for
from tests.support.firebase import AuthEmulator, EmulatorUser
from tests.support.servers import free_port, serving

PROJECT = "demo-agora-test"


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
    task_credential: str = "e2e-task-credential"
    # Loopback ports the tests' stand-in agents use: the executor admits them by name
    # (`egress_local_endpoints`), as it admits the agents its own runtime starts.
    agent_ports: tuple[int, ...] = ()

    @property
    def agent_endpoints(self) -> tuple[str, ...]:
        return tuple(f"127.0.0.1:{port}" for port in self.agent_ports)

    def api(self, path: str) -> str:
        return f"{self.gateway}/api/v1{path}"

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

    def gateway_settings(self, **overrides: Any) -> GatewaySettings:
        port = overrides.pop("port", free_port())
        kwargs = local_settings_kwargs(
            self.key_file,
            self.jwks_file,
            f"http://127.0.0.1:{port}",
            service_urls={
                "registry": self.registry,
                "auth": self.auth_service,
                "executor": self.executor,
                "analytics": self.analytics,
                "vetting": self.vetting,
            },
            firebase_auth_emulator_host=self.emulator_env["FIREBASE_AUTH_EMULATOR_HOST"],
            redis_url=self.emulator_env["REDIS_URL"],
            trusted_proxy_hops=0,
            # Revocation seen at once, so tests can take a role away and watch it go.
            revocation_ttl_s=0,
            port=port,
        )
        kwargs.update(overrides)
        return GatewaySettings(**kwargs)

    def serve_gateway(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.gateway_settings(**overrides)
        return serving(create_gateway(settings), settings.port)

    def registry_settings(self) -> RegistrySettings:
        return RegistrySettings(
            **local_settings_kwargs(
                self.key_file,
                self.jwks_file,
                self.registry,
                firestore_emulator_host=self.emulator_env["FIRESTORE_EMULATOR_HOST"],
                redis_url=self.emulator_env["REDIS_URL"],
                service_urls={"vetting": self.vetting},
            )
        )

    def serve_registry(self) -> AbstractContextManager[str]:
        return serving(create_registry(self.registry_settings()), self.registry_port)

    def auth_settings(self) -> AuthSettings:
        return AuthSettings(
            **local_settings_kwargs(
                self.key_file,
                self.jwks_file,
                self.auth_service,
                firestore_emulator_host=self.emulator_env["FIRESTORE_EMULATOR_HOST"],
                firebase_auth_emulator_host=self.emulator_env["FIREBASE_AUTH_EMULATOR_HOST"],
                service_urls={"registry": self.registry},
                kek_file=self.state_dir / "kek.json",
            )
        )

    def serve_auth(self) -> AbstractContextManager[str]:
        settings = self.auth_settings()
        return serving(create_auth(settings), int(self.auth_service.rsplit(":", 1)[1]))

    def executor_settings(self, url: str, **overrides: Any) -> ExecutorSettings:
        kwargs: dict[str, Any] = {
            "firestore_emulator_host": self.emulator_env["FIRESTORE_EMULATOR_HOST"],
            "redis_url": self.emulator_env["REDIS_URL"],
            "service_urls": {
                "registry": self.registry,
                "auth": self.auth_service,
                "analytics": self.analytics,
            },
            "local_agents_root": repo_root() / "agents",
            "local_log_dir": self.state_dir / "agents",
            "egress_local_endpoints": self.agent_endpoints,
        }
        kwargs.update(overrides)
        return ExecutorSettings(
            **local_settings_kwargs(self.key_file, self.jwks_file, url, **kwargs)
        )

    def serve_executor(self, **overrides: Any) -> AbstractContextManager[str]:
        """An executor; the stack's own unless `port` names another."""
        port = overrides.pop("port", None) or int(self.executor.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{port}"
        return serving(create_executor(self.executor_settings(url, **overrides)), port)

    def analytics_settings(self, **overrides: Any) -> AnalyticsSettings:
        kwargs: dict[str, Any] = {
            "firestore_emulator_host": self.emulator_env["FIRESTORE_EMULATOR_HOST"],
            "bigquery_emulator_host": self.emulator_env["BIGQUERY_EMULATOR_HOST"],
            "service_urls": {"registry": self.registry},
            "bigquery_retry_deadline_s": 1.0,
        }
        kwargs.update(overrides)
        return AnalyticsSettings(
            **local_settings_kwargs(self.key_file, self.jwks_file, self.analytics, **kwargs)
        )

    def serve_analytics(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.analytics_settings(**overrides)
        return serving(create_analytics(settings), int(self.analytics.rsplit(":", 1)[1]))

    def vetting_settings(self, **overrides: Any) -> VettingSettings:
        kwargs: dict[str, Any] = {
            "firestore_emulator_host": self.emulator_env["FIRESTORE_EMULATOR_HOST"],
            "cloud_tasks_emulator_host": self.emulator_env["CLOUD_TASKS_EMULATOR_HOST"],
            "service_urls": {"registry": self.registry, "executor": self.executor},
            "tasks_target_url": self.vetting,
            "local_task_credential": self.task_credential,
            "agents_root": self.state_dir / "sources" / "agents",
            "scan_timeout_s": 120.0,
        }
        kwargs.update(overrides)
        return VettingSettings(
            **local_settings_kwargs(self.key_file, self.jwks_file, self.vetting, **kwargs)
        )

    def serve_vetting(self, **overrides: Any) -> AbstractContextManager[str]:
        settings = self.vetting_settings(**overrides)
        return serving(create_vetting(settings), int(self.vetting.rsplit(":", 1)[1]))

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
        agent_ports=(free_port(), free_port()),
    )
    with (
        partial.serve_registry(),
        partial.serve_analytics(),
        partial.serve_vetting(),
        partial.serve_auth(),
        partial.serve_executor(),
        partial.serve_gateway() as gateway,
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
