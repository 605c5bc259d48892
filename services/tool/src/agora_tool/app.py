"""App factory of the tool service."""

from functools import partial

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_tool.container import build
from agora_tool.routes import catalog, factory, internal, mcp, submissions
from agora_tool.settings import ToolSettings


def create_app(settings: ToolSettings | None = None) -> FastAPI:
    settings = settings or ToolSettings()
    app = create_service_app(
        settings,
        title="Agora tool",
        description="The tool catalog, versions and the Tool Factory.",
        needs=Needs(firestore=True, redis=True, storage=True),
        wire=partial(build, settings),
        max_body_bytes=settings.max_body_bytes,
    )
    # Order matters: /catalog, /generate, /submit, /mcp and /internal before /{tool_id}.
    routers = (internal.router, factory.router, submissions.router, mcp.router, catalog.router)
    for router in routers:
        app.include_router(router)
    return app
