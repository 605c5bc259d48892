"""What the tool service's routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

from agora_common.agents import AgentDirectory
from agora_common.answer_cache import AnswerCache
from agora_common.app import Resources
from agora_common.egress import EgressGuard
from agora_common.egress_client import make_guarded_client
from agora_tool.approval import ApprovalService
from agora_tool.catalog import CatalogService
from agora_tool.catalog_sync import CatalogSync
from agora_tool.factory_service import FactoryService, LlmProviders
from agora_tool.jobs import JobRepository
from agora_tool.mcp_calls import ToolCalls
from agora_tool.mcp_server import McpEndpoint
from agora_tool.repository import ToolRepository
from agora_tool.settings import ToolSettings
from agora_tool.submissions import SubmissionService


@dataclass(frozen=True)
class ToolContainer:
    catalog: CatalogService
    sync: CatalogSync
    submissions: SubmissionService
    approvals: ApprovalService
    factory: FactoryService
    mcp: McpEndpoint


async def build(
    settings: ToolSettings, resources: Resources, stack: AsyncExitStack
) -> ToolContainer:
    assert resources.firestore is not None
    repository = ToolRepository(resources.firestore, timeout_s=settings.dependency_timeout_s)
    cache = AnswerCache(
        resources.redis, settings.catalog_cache_ttl_s, settings.project_id, name="tool_catalog"
    )
    sync = CatalogSync(repository, AgentDirectory(resources.services, ttl_s=0), cache)
    if settings.reconcile_interval_s > 0 and "registry" in resources.services.service_urls:
        loop = asyncio.create_task(sync.run_every(settings.reconcile_interval_s))
        stack.push_async_callback(_cancel, loop)
    catalog = CatalogService(repository, cache)
    jobs = JobRepository(resources.firestore, timeout_s=settings.dependency_timeout_s)
    # The llm kind calls the user's provider: the one egress rule, no redirects.
    guard = EgressGuard(allowed_endpoints=settings.egress_local_endpoints)
    llm_http = make_guarded_client(guard, timeout_s=settings.llm_timeout_s)
    stack.push_async_callback(llm_http.aclose)
    factory = FactoryService(
        jobs,
        resources.blobs,
        resources.services,
        concurrency=settings.generate_concurrency,
        job_ttl=timedelta(days=settings.job_ttl_days),
        check_timeout_s=settings.check_timeout_s,
        llm=LlmProviders(llm_http, dict(settings.llm_base_urls)),
    )
    stack.push_async_callback(factory.aclose)
    submissions = SubmissionService(
        jobs,
        resources.blobs,
        resources.services,
        sync,
        limits=settings.package_limits,
        image_repository=settings.image_repository,
    )
    approvals = ApprovalService(
        repository, resources.services, sync, catalog, timeout_s=settings.approve_timeout_s
    )
    calls = ToolCalls(
        resources.services,
        timeout_s=settings.mcp_call_timeout_s,
        connect_timeout_s=settings.http_connect_timeout_s,
    )
    mcp = McpEndpoint(
        catalog, calls, page_size=settings.mcp_page_size, max_body_bytes=settings.max_body_bytes
    )
    await stack.enter_async_context(mcp.manager.run())
    return ToolContainer(
        catalog=catalog,
        sync=sync,
        submissions=submissions,
        approvals=approvals,
        factory=factory,
        mcp=mcp,
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
