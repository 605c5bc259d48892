"""What the executor's routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_common.agents import AgentDirectory
from agora_common.app import Resources
from agora_common.egress import EgressGuard
from agora_common.egress_client import make_guarded_client
from agora_common.mcp_remote import McpRemote
from agora_executor.agent_client import AgentClient
from agora_executor.auth_secrets import AuthSecrets
from agora_executor.deploy import DeployService
from agora_executor.health import HealthProbe
from agora_executor.logs import ExecutionLogWriter
from agora_executor.mcp_agents import McpAgents
from agora_executor.probe import RevisionProbe
from agora_executor.repository import EXECUTION_LOGS, ExecutorRepository
from agora_executor.runtime import LocalRuntime
from agora_executor.runtimes import runtime_for
from agora_executor.security_events import SecurityEvents
from agora_executor.service import ExecutionService
from agora_executor.settings import ExecutorSettings
from agora_executor.shipping import LogShipper
from agora_executor.spend import SpendLimits, analytics_spend


@dataclass(frozen=True)
class ExecutorContainer:
    executions: ExecutionService
    deployments: DeployService
    health: HealthProbe
    security: SecurityEvents


async def build(
    settings: ExecutorSettings, resources: Resources, stack: AsyncExitStack
) -> ExecutorContainer:
    assert resources.firestore is not None
    assert resources.redis is not None
    runtime = runtime_for(settings, resources)
    stack.push_async_callback(runtime.aclose)
    # Agents are called only at addresses the one egress rule admits; locally, also the
    # endpoints of agents this executor's runtime started.
    guard = EgressGuard(
        allowed_endpoints=settings.egress_local_endpoints,
        admits=runtime.admits if isinstance(runtime, LocalRuntime) else None,
    )
    http = make_guarded_client(
        guard,
        timeout_s=settings.max_agent_timeout_s,
        connect_timeout_s=settings.agent_connect_timeout_s,
        max_connections=settings.http_max_connections,
    )
    stack.push_async_callback(http.aclose)
    repository = ExecutorRepository(resources.firestore, timeout_s=settings.dependency_timeout_s)
    # A reload stuck behind a slow registry, auth or Firestore must not stall every
    # execution: the previous value serves for one more TTL while it finishes.
    ttl = settings.agent_cache_ttl_s
    directory = AgentDirectory(resources.services, ttl_s=ttl, stale_s=ttl)
    secrets = AuthSecrets(resources.services, ttl_s=ttl, stale_s=ttl)
    agent_client = AgentClient(
        http,
        guard,
        connect_timeout_s=settings.agent_connect_timeout_s,
        max_response_bytes=settings.max_response_bytes,
    )
    # Logs go to Firestore first (the outbox), then to analytics off the request path.
    shipper = LogShipper(repository, resources.services)
    shipper.start()
    stack.push_async_callback(shipper.aclose)
    logs = ExecutionLogWriter(
        repository, on_stored=lambda batch: shipper.stored(EXECUTION_LOGS, batch)
    )
    logs.start()
    stack.push_async_callback(logs.aclose)
    spend = SpendLimits(
        analytics_spend(resources.services, timeout_s=settings.spend_timeout_s),
        ttl_s=settings.spend_cache_ttl_s,
    )
    mcp = McpAgents(McpRemote(http, guard), max_response_bytes=settings.max_response_bytes)
    executions = ExecutionService(
        directory,
        secrets,
        agent_client,
        repository,
        settings,
        resources.services.auth,
        logs,
        spend,
        mcp,
    )
    deployments = DeployService(
        directory,
        secrets,
        runtime,
        repository,
        RevisionProbe(http, guard, resources.services.auth),
        on_deployed=executions.forget_target,
    )
    return ExecutorContainer(
        executions=executions,
        deployments=deployments,
        health=HealthProbe(
            http, guard, resources.redis, ttl_s=settings.health_cache_ttl_s, directory=directory
        ),
        security=SecurityEvents(repository, shipper),
    )
