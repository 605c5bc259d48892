"""The deployment runtime the settings ask for."""

from __future__ import annotations

from agora_common.app import Resources
from agora_executor.runtime import (
    AgentRuntime,
    CloudRunConfig,
    CloudRunRuntime,
    GoogleAccessTokens,
    LocalConfig,
    LocalRuntime,
)
from agora_executor.runtime.cloud_build import CloudBuildConfig, ImageBuilder
from agora_executor.runtime.packages import PackageFolders
from agora_executor.settings import ExecutorSettings


def runtime_for(settings: ExecutorSettings, resources: Resources) -> AgentRuntime:
    if settings.agent_runtime == "local":
        config = LocalConfig(
            agents_root=settings.local_agents_root,
            log_dir=settings.local_log_dir,
            agent_env=_egress_env(settings.local_agent_egress),
        )
        packages = PackageFolders(
            resources.blobs, settings.local_packages_dir, settings.package_limits
        )
        return LocalRuntime(config, resources.http, packages)
    if settings.agent_service_account is None:
        raise ValueError("executor: agent_service_account is needed to deploy to Cloud Run")
    cloud = CloudRunConfig(
        project_id=settings.project_id,
        region=settings.region,
        runtime_service_account=settings.agent_service_account,
        invoker_service_account=settings.identity_email,
        project_number=settings.project_number,
    )
    tokens = GoogleAccessTokens()
    builder = None
    if settings.build_service_account is not None:
        build = CloudBuildConfig(
            project_id=settings.project_id,
            region=settings.region,
            build_service_account=settings.build_service_account,
            artifact_repository=settings.artifact_repository,
            build_timeout_s=settings.build_timeout_s,
        )
        builder = ImageBuilder(build, resources.http, tokens)
    return CloudRunRuntime(cloud, resources.http, tokens, builder)


def _egress_env(endpoints: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return (("AGORA_AGENT_EGRESS_ALLOW", ",".join(endpoints)),) if endpoints else ()
