"""App factory of the vetting service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from agora_common.agents import AgentDirectory
from agora_common.app import Needs, Resources, create_service_app
from agora_common.audit import AuditLog
from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError
from agora_common.http1 import Http1Transport
from agora_common.webhooks import WebhookSender
from agora_vetting.repository import VettingRepository
from agora_vetting.routes import admin, internal
from agora_vetting.scanning import Scanner
from agora_vetting.service import VettingService
from agora_vetting.settings import VettingSettings
from agora_vetting.tasks import ScanQueue

log = logging.getLogger("agora.vetting")


def create_app(settings: VettingSettings | None = None) -> FastAPI:
    settings = settings or VettingSettings()

    @asynccontextmanager
    async def wire(app: FastAPI) -> AsyncIterator[None]:
        """Build the services on the clients the shared lifespan opened."""
        resources: Resources = app.state.resources
        assert resources.firestore is not None
        timeout = settings.dependency_timeout_s
        async with AsyncExitStack() as stack:
            queue = ScanQueue(settings)
            try:
                await queue.ensure_queue()
            except (AgoraError, Exception) as exc:  # the first enqueue says so again
                log.warning("scan queue not checked", extra={"error": type(exc).__name__})
            guard = EgressGuard(allowed_networks=settings.egress_allowed_networks)
            # Probes connect only to addresses the guard checked; redirects are not followed.
            probes = httpx.AsyncClient(
                transport=Http1Transport(
                    connect_timeout_s=settings.probe_timeout_s, resolve=guard.addresses
                ),
                timeout=settings.probe_timeout_s,
                follow_redirects=False,
            )
            stack.push_async_callback(probes.aclose)
            agents = AgentDirectory(resources.services, ttl_s=0)
            webhooks = WebhookSender(guard)
            stack.push_async_callback(webhooks.aclose)
            app.state.vetting = VettingService(
                VettingRepository(resources.firestore, timeout_s=timeout),
                queue,
                Scanner(agents, guard, probes, settings),
                agents,
                resources.services,
                AuditLog(resources.firestore, timeout_s=timeout),
                deploy_timeout_s=settings.deploy_timeout_s,
                guard=guard,
                webhooks=webhooks,
            )
            yield

    app = create_service_app(
        settings,
        title="Agora vetting",
        description="The review queue, security scans through Cloud Tasks, approve and deploy.",
        needs=Needs(firestore=True),
        lifespan_hook=wire,
    )
    for router in (internal.router, admin.router):
        app.include_router(router)
    return app
