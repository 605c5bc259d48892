"""Agent deployment runtimes: Cloud Run services in production, local processes in development."""

from agora_executor.runtime.base import (
    AgentRuntime,
    DeployFailed,
    Deployment,
    DeploySpec,
    service_name,
)
from agora_executor.runtime.cloud_run import CloudRunConfig, CloudRunRuntime
from agora_executor.runtime.google_auth import AccessTokenProvider, GoogleAccessTokens
from agora_executor.runtime.local import LocalConfig, LocalRuntime

__all__ = [
    "AccessTokenProvider",
    "AgentRuntime",
    "CloudRunConfig",
    "CloudRunRuntime",
    "DeployFailed",
    "DeploySpec",
    "Deployment",
    "GoogleAccessTokens",
    "LocalConfig",
    "LocalRuntime",
    "service_name",
]
