"""App factory of the registry service."""

from functools import partial

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_registry.container import build
from agora_registry.routes import a2a, agents, internal, search
from agora_registry.settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    app = create_service_app(
        settings,
        title="Agora registry",
        description="Agents: register, search, manifests, status.",
        needs=Needs(firestore=True, redis=True),
        wire=partial(build, settings),
        max_body_bytes=settings.max_body_bytes,
    )
    # Order matters: /search and /register before /{agent_id}.
    for router in (search.router, internal.router, a2a.router, agents.router):
        app.include_router(router)
    return app
