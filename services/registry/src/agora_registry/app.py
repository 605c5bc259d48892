"""App factory of the registry service."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agora_common.app import Needs, Resources, create_service_app
from agora_registry.repository import AgentRepository
from agora_registry.routes import agents, internal, search
from agora_registry.search import SearchService
from agora_registry.search_cache import SearchCache
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings
from agora_registry.submissions import SubmissionNotifier


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    @asynccontextmanager
    async def wire(app: FastAPI) -> AsyncIterator[None]:
        """Build the services on the clients the shared lifespan opened."""
        resources: Resources = app.state.resources
        assert resources.firestore is not None
        repository = AgentRepository(resources.firestore, timeout_s=settings.dependency_timeout_s)
        cache = SearchCache(resources.redis, settings.search_cache_ttl_s, settings.project_id)
        submissions = SubmissionNotifier(resources.services)
        app.state.registry = RegistryService(repository, cache, settings, submissions)
        app.state.search = SearchService(repository, cache)
        try:
            yield
        finally:
            await submissions.aclose()

    app = create_service_app(
        settings,
        title="Agora registry",
        description="Agents: register, search, manifests, status.",
        needs=Needs(firestore=True, redis=True),
        lifespan_hook=wire,
        max_body_bytes=settings.max_body_bytes,
    )
    # Order matters: /search and /register before /{agent_id}.
    for router in (search.router, internal.router, agents.router):
        app.include_router(router)
    return app
