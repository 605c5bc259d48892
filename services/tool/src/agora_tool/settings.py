"""Settings of the tool service (env prefix `AGORA_TOOL_`)."""

from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import PackageLimitSettings, ServiceSettings, UnsafeSettingsError


class ToolSettings(PackageLimitSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_TOOL_")

    service_name: ClassVar[str] = "tool"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "registry")
    # Who may say an agent changed (the registry, beside its answers).
    sync_services: ClassVar[tuple[str, ...]] = ("registry",)
    # Cloud Scheduler's identity for the periodic reconcile (infra/terraform/scheduler.tf).
    reconcile_services: ClassVar[tuple[str, ...]] = ("catalog-scheduler",)
    allowed_caller_identities: ClassVar[tuple[str, ...]] = reconcile_services

    # Package archives come as request bodies, capped at max_package_bytes (the gateway's own
    # body cap, 1 MiB by default, applies first); JSON bodies (generation requests) at this.
    max_body_bytes: int = Field(default=1024 * 1024 + 4096, ge=1024, le=64 * 1024 * 1024)
    # Where Cloud Build puts submitted packages' images (Artifact Registry).
    image_repository: str = Field(
        default="us-central1-docker.pkg.dev/agora/agora-tools", min_length=1, max_length=200
    )
    # Tool Factory jobs run beside the answer, this many at once per instance; a job's record
    # is kept this long; vetting's checks of one package (scanners and its tests) get this long.
    generate_concurrency: int = Field(default=2, ge=1, le=16)
    job_ttl_days: int = Field(default=7, ge=1, le=90)
    check_timeout_s: float = Field(default=300.0, gt=0, le=900)
    # The Tool Factory's `llm` kind: where each provider's OpenAI-compatible API answers, when
    # not at its public address (a company proxy; locally, a stand-in), and how long one
    # generation may wait for it.
    llm_base_urls: dict[str, str] = Field(default_factory=dict)
    llm_timeout_s: float = Field(default=60.0, gt=0, le=300)
    # Local development only: `address:port` endpoints the provider calls may reach besides
    # public addresses.
    egress_local_endpoints: tuple[str, ...] = ()
    # An approval deploys the agent: as long as vetting's own deploy wait, and a little more.
    approve_timeout_s: float = Field(default=330.0, gt=0, le=900)
    catalog_cache_ttl_s: int = Field(default=600, ge=1, le=86_400)
    # The MCP endpoint (`POST /mcp`): tools per `tools/list` page, and how long one `tools/call`
    # waits for the executor (its own cap on an agent is 60 s; the gateway's execute group, 70 s).
    mcp_page_size: int = Field(default=50, ge=1, le=100)
    mcp_call_timeout_s: float = Field(default=65.0, gt=0, le=300)
    # In-process reconcile every this many seconds (0: off). Production turns it off and lets
    # Cloud Scheduler call POST /internal/reconcile, since Cloud Run may pause idle instances.
    reconcile_interval_s: float = Field(default=300.0, ge=0, le=86_400)

    @model_validator(mode="after")
    def _local_only_tool_settings(self) -> Self:
        if self.is_local:
            return self
        if self.egress_local_endpoints:
            raise UnsafeSettingsError("tool: egress_local_endpoints is for local development only")
        plain = sorted(p for p, url in self.llm_base_urls.items() if not url.startswith("https://"))
        if plain:
            raise UnsafeSettingsError(f"tool: llm_base_urls must be https: {', '.join(plain)}")
        return self
