"""One description of the fleet: service X in local mode, on these emulators, with these peers.

`make dev`, the benchmarks, the e2e suite and the tests' fixtures all build a service's local
settings here: in-process as its settings class (`LocalFleet.settings`), or for a subprocess as
environment variables under its own prefix (`LocalFleet.env_for`). Both are rendered from the same
field values, so a service configured one way cannot differ from one configured the other.

Who calls whom comes from the services' own allowlists: service X is given service Y's URL when Y
allows X to call it and Y runs in this fleet, so the local wiring cannot drift from what the
services enforce.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from agora_analytics.settings import AnalyticsSettings
from agora_auth.settings import AuthSettings
from agora_common.iam.tokens import generate_dev_key
from agora_common.settings import LOCAL_DEV_ISSUER, Environment, ServiceSettings
from agora_devstack.emulator_base import HOST, SOURCE_BUCKET, repo_root
from agora_executor.settings import ExecutorSettings
from agora_gateway.settings import GatewaySettings
from agora_registry.settings import RegistrySettings
from agora_tool.settings import ToolSettings
from agora_vetting.settings import VettingSettings

__all__ = [
    "DEFAULT_PORTS",
    "HOST",
    "PROJECT_ID",
    "SERVICES",
    "SOURCE_BUCKET_USERS",
    "DevKey",
    "LocalFleet",
    "local_iam",
    "peers_of",
]

PROJECT_ID = "demo-agora"
# The services that keep package sources in Cloud Storage: the emulator's bucket, when it runs.
SOURCE_BUCKET_USERS = ("tool", "vetting", "executor")
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
# Where agents run from and live on locally: the repository's folders, on loopback addresses.

S = TypeVar("S", bound=ServiceSettings)


def peers_of(caller: str) -> list[str]:
    """The services that allow `caller` on their internal routes."""
    return [name for name, cls in SERVICES.items() if caller in cls.allowed_caller_services]


@dataclass(frozen=True)
class DevKey:
    """The run's development signer key and the JWKS file that publishes it."""

    key_file: Path
    jwks_file: Path

    @classmethod
    def make(cls, directory: Path) -> DevKey:
        """A fresh key in `directory` (dev-signer.pem) and its JWKS beside it."""
        key_file = directory / "dev-signer.pem"
        return cls(key_file, generate_dev_key(key_file))


def local_iam(key: DevKey, audiences: Sequence[str]) -> dict[str, Any]:
    """The fields that make a service local: local mode, the dev signer, its JWKS as sole issuer."""
    return {
        "env": Environment.LOCAL,
        "iam_dev_key_file": key.key_file,
        "iam_jwks_url": key.jwks_file.as_uri(),
        "iam_issuers": (LOCAL_DEV_ISSUER,),
        "iam_audiences": tuple(audiences),
    }


@dataclass(frozen=True)
class LocalFleet:
    """The services of one local run: which run where, on which emulators, under which key.

    `emulators` is what `EmulatorSuite.env()` gives (emulator hosts, REDIS_URL); `ports` names the
    services that run, on 127.0.0.1. `state_dir` holds this run's files: the agents' logs
    (`agents/`) and, unless `kek_file` names another, the API keys' local KEK (`keys/`).
    """

    emulators: Mapping[str, str]
    ports: Mapping[str, int]
    key: DevKey
    state_dir: Path
    project_id: str = PROJECT_ID
    agents_root: Path = field(default_factory=lambda: repo_root() / "agents")
    kek_file: Path | None = None
    # The platform's card-signing key (EC P-256), unless this names another: `keys/` of the
    # state directory. The registry (cards) and vetting (scan receipts) sign with it, and the
    # gateway publishes its JWKS.
    signing_key_file: Path | None = None
    # `address:port` of agents started outside the executor's runtime (tests' stand-ins).
    agent_endpoints: tuple[str, ...] = ()
    # Browser origins of the web console: the gateway's CORS allows them, and only them.
    console_origins: tuple[str, ...] = ()
    # The emulator sends no OIDC token: the vetting service's tasks carry this credential instead.
    task_credential: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.state_dir / "keys" / "card-signing.pem"

    def url(self, name: str) -> str:
        """Base URL of service `name` in this fleet."""
        return f"http://{HOST}:{self.ports[name]}"

    def peers(self, name: str) -> dict[str, str]:
        """URLs of the running services that allow `name` to call them."""
        return {peer: self.url(peer) for peer in peers_of(name) if peer in self.ports}

    def moved(self, **ports: int) -> LocalFleet:
        """The same fleet with some services on other ports (a second instance, a fresh port)."""
        return replace(self, ports={**self.ports, **ports})

    def settings(self, cls: type[S], **overrides: Any) -> S:
        """Settings of the service `cls` describes, in local mode, with further field values."""
        return cls(**self._values(cls, overrides))

    def settings_for(self, name: str) -> ServiceSettings:
        """Settings of service `name`, in local mode."""
        return self.settings(SERVICES[name])

    def env_for(self, name: str, **overrides: Any) -> dict[str, str]:
        """Environment of service `name` as a subprocess: its settings under its own prefix, PORT
        and the emulators' variables. `overrides` are further field values (None: the default)."""
        cls = SERVICES[name]
        prefix = str(cls.model_config.get("env_prefix", ""))
        env = {**self.emulators, "GOOGLE_CLOUD_PROJECT": self.project_id}
        for key, value in self._values(cls, overrides).items():
            if value is None:
                continue
            alias = cls.model_fields[key].validation_alias
            env[alias if isinstance(alias, str) else f"{prefix}{key.upper()}"] = _env_value(value)
        return env

    def _values(self, cls: type[ServiceSettings], overrides: Mapping[str, Any]) -> dict[str, Any]:
        name = cls.service_name
        unknown = sorted(set(overrides) - set(cls.model_fields))
        if unknown:
            # The settings classes ignore unknown names: a misspelt override would vanish silently.
            raise TypeError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
        own = self.url(name)
        values: dict[str, Any] = {
            **local_iam(self.key, (own, f"http://localhost:{self.ports[name]}")),
            "project_id": self.project_id,
            "port": self.ports[name],
            "service_urls": self.peers(name),
        }
        if "REDIS_URL" in self.emulators:
            values["redis_url"] = self.emulators["REDIS_URL"]
        if "STORAGE_EMULATOR_HOST" in self.emulators and name in SOURCE_BUCKET_USERS:
            values["source_bucket"] = SOURCE_BUCKET
        for key, info in cls.model_fields.items():  # emulator hosts, under their own variables
            if isinstance(info.validation_alias, str) and info.validation_alias in self.emulators:
                values[key] = self.emulators[info.validation_alias]
        return values | self._local_only(name, own) | dict(overrides)

    def _local_only(self, name: str, own: str) -> dict[str, Any]:
        """What one service needs only when it runs here."""
        match name:
            case "gateway":  # nothing in front of it locally: the peer is the client
                return {
                    "trusted_proxy_hops": 0,
                    "cors_origins": self.console_origins,
                    "card_signing_key_file": self.signing_key_path,
                }
            case "registry":  # signs A2A cards naming the gateway's execute URL
                return {
                    "card_signing_key_file": self.signing_key_path,
                    "public_api_url": self.url("gateway") if "gateway" in self.ports else None,
                }
            case "auth":
                kek_file = self.kek_file or self.state_dir / "keys" / "api-keys-kek.json"
                return {"local_kek_file": kek_file}
            case "executor":  # agents run as processes here, on loopback addresses
                return {
                    "local_agents_root": self.agents_root,
                    "local_log_dir": self.state_dir / "agents",
                    "local_packages_dir": self.state_dir / "packages",
                    # Egress admits the agents its runtime starts, and these endpoints only.
                    "egress_local_endpoints": self.agent_endpoints,
                }
            case "vetting":  # scans read local sources; tasks come back from the emulator
                return {
                    "agents_root": self.agents_root,
                    "tasks_target_url": own,
                    "local_task_credential": self.task_credential,
                    # Signs each scan receipt with the platform's key, as the registry signs cards.
                    "card_signing_key_file": self.signing_key_path,
                }
        return {}


def _env_value(value: Any) -> str:
    """A field value as pydantic-settings reads it back from the environment."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Path):
        return str(value)
    return json.dumps(value, default=str)  # tuples, lists, dicts: JSON, as for complex fields
