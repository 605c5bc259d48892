"""Settings of the executor service (env prefix `AGORA_EXECUTOR_`)."""

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import PackageLimitSettings, ServiceSettings, UnsafeSettingsError


class ExecutorSettings(PackageLimitSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_EXECUTOR_")

    service_name: ClassVar[str] = "executor"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "vetting", "tool")
    # The tool service's MCP endpoint executes tools for the user the gateway verified.
    identity_forwarders: ClassVar[tuple[str, ...]] = ("tool",)
    # Who may deploy: the vetting service, or an admin through the gateway.
    deploy_services: ClassVar[tuple[str, ...]] = ("vetting",)

    # An agent may ask for less in its card (`metadata.timeout_s`), never for more.
    agent_timeout_s: float = Field(default=30.0, gt=0, le=300)
    max_agent_timeout_s: float = Field(default=60.0, gt=0, le=300)
    agent_connect_timeout_s: float = Field(default=2.0, gt=0, le=30)
    max_request_bytes: int = Field(default=256 * 1024, ge=1024, le=8 * 1024 * 1024)
    max_response_bytes: int = Field(default=1024 * 1024, ge=1024, le=32 * 1024 * 1024)
    # Local development only: `address:port` endpoints egress admits besides public addresses
    # (agents the local runtime started are admitted without being named here).
    egress_local_endpoints: tuple[str, ...] = ()
    # How long an agent's record and secret are reused before the registry / auth are asked again.
    agent_cache_ttl_s: float = Field(default=5.0, ge=0, le=300)
    health_cache_ttl_s: int = Field(default=300, ge=1, le=86_400)
    # Personal tokens' monthly spend limits: how long a token's month-to-date cost (analytics)
    # is reused, and how long the executor waits for it before refusing with a 503.
    spend_cache_ttl_s: float = Field(default=30.0, ge=0, le=300)
    spend_timeout_s: float = Field(default=3.0, gt=0, le=30)
    idempotency_ttl_s: int = Field(default=86_400, ge=60, le=7 * 86_400)

    # Where deployed agents run: Cloud Run services, or (local development) processes here.
    # Unset: local processes in local mode, Cloud Run otherwise.
    runtime: Literal["cloud-run", "local"] | None = None
    region: str = "us-central1"
    # The identity agents run as on Cloud Run: an account with no roles.
    agent_service_account: str | None = None
    project_number: str | None = None
    # Cloud Run: submitted packages' images are built by Cloud Build as this account, into this
    # Artifact Registry repository (in `region`), within build_timeout_s. Unset: only platform
    # agents (their image given) can be deployed.
    build_service_account: str | None = None
    artifact_repository: str = Field(default="agora-tools", pattern=r"^[a-z][a-z0-9-]{0,62}$")
    build_timeout_s: float = Field(default=600.0, ge=60, le=3600)
    # Local runtime: agents are started from folders directly under this root (e.g. agents/).
    local_agents_root: Path = Path("agents")
    local_log_dir: Path = Path(".local/logs/agents")
    # Local runtime: submitted packages (sources in the bucket) are unpacked under this.
    local_packages_dir: Path = Path(".local/packages")
    # Local runtime: `address:port` endpoints agents may call besides public addresses
    # (AGORA_AGENT_EGRESS_ALLOW of the SDK's guarded client), e.g. a REST API run for a test.
    local_agent_egress: tuple[str, ...] = ()

    @property
    def agent_runtime(self) -> Literal["cloud-run", "local"]:
        return self.runtime or ("local" if self.is_local else "cloud-run")

    @model_validator(mode="after")
    def _local_only_settings(self) -> Self:
        if self.is_local:
            return self
        if self.egress_local_endpoints:
            raise UnsafeSettingsError(
                "executor: egress_local_endpoints is for local development only"
            )
        if self.local_agent_egress:
            raise UnsafeSettingsError("executor: local_agent_egress is for local development only")
        if self.runtime == "local":
            raise UnsafeSettingsError("executor: the local agent runtime is for development only")
        if not self.agent_service_account:
            raise UnsafeSettingsError("executor: agent_service_account is required on Cloud Run")
        return self
