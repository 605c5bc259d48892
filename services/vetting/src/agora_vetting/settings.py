"""Settings of the vetting service (env prefix `AGORA_VETTING_`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import PackageLimitSettings, UnsafeSettingsError
from agora_common.signing.settings import CardSigningSettings


class VettingSettings(PackageLimitSettings, CardSigningSettings):
    """Also where the platform's signing key is (scan receipts are signed with it)."""

    model_config = SettingsConfigDict(env_prefix="AGORA_VETTING_")

    service_name: ClassVar[str] = "vetting"
    # The gateway (admins' routes), the registry (new and resubmitted cards) and the tool
    # service (approvals of submitted tools, and the Tool Factory's package checks).
    allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway", "registry", "tool")
    submission_services: ClassVar[tuple[str, ...]] = ("registry",)
    # The tool service approves a submitted tool's agent for the admin it verified.
    approval_services: ClassVar[tuple[str, ...]] = ("tool",)
    package_check_services: ClassVar[tuple[str, ...]] = ("tool",)
    # The identity Cloud Tasks attaches to scan tasks (see infra/terraform/tasks.tf).
    tasks_invoker_name: ClassVar[str] = "tasks-invoker"
    allowed_caller_identities: ClassVar[tuple[str, ...]] = (tasks_invoker_name,)

    # Cloud Tasks: the queue scans go through, and the URL tasks call back (this service).
    tasks_queue: str = "agora-scans"
    tasks_location: str = "us-central1"
    tasks_target_url: str | None = None
    cloud_tasks_emulator_host: str | None = Field(
        default=None, validation_alias="CLOUD_TASKS_EMULATOR_HOST"
    )
    # Local only: the emulator sends no OIDC token, so tasks carry this credential in a header.
    local_task_credential: SecretStr | None = None

    # Static checks: where agent sources live (card metadata `source: agents/<folder>`), and the
    # caps every scanner runs under.
    agents_root: Path = Path("agents")
    scan_timeout_s: float = Field(default=120.0, gt=0, le=900)
    scan_memory_mb: int = Field(default=1024, ge=128, le=8192)
    # Package checks run within the request: at most this many at once (each runs its scanners
    # side by side); a caller beyond them waits this long for a turn, then gets 503.
    package_check_concurrency: int = Field(default=2, ge=1, le=16)
    package_check_wait_s: float = Field(default=5.0, ge=0, le=60)
    # A package check's body is the largest: 2 MiB of files, JSON-escaped.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=32 * 1024 * 1024)
    # Local development only: `address:port` endpoints the probe may reach besides public
    # addresses (agents the executor's local runtime deployed are admitted without this).
    egress_local_endpoints: tuple[str, ...] = ()

    probe_timeout_s: float = Field(default=5.0, gt=0, le=60)
    deploy_timeout_s: float = Field(default=300.0, gt=0, le=900)

    @property
    def queue_path(self) -> str:
        return (
            f"projects/{self.project_id}/locations/{self.tasks_location}/queues/{self.tasks_queue}"
        )

    @model_validator(mode="after")
    def _local_only_vetting_settings(self) -> Self:
        if self.is_local:
            return self
        problems = []
        if self.cloud_tasks_emulator_host:
            problems.append("CLOUD_TASKS_EMULATOR_HOST is set")
        if self.local_task_credential is not None:
            problems.append("local_task_credential is for the local emulator only")
        if self.egress_local_endpoints:
            problems.append("egress_local_endpoints is for local development only")
        if not self.tasks_target_url:
            problems.append("tasks_target_url is required")
        if problems:
            raise UnsafeSettingsError(
                f"vetting: unsafe settings in production: {'; '.join(problems)}"
            )
        return self
