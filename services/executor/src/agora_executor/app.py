"""App factory of the executor service."""

from functools import partial

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_executor.container import build
from agora_executor.routes import deploy, execute
from agora_executor.settings import ExecutorSettings


def create_app(settings: ExecutorSettings | None = None) -> FastAPI:
    settings = settings or ExecutorSettings()

    app = create_service_app(
        settings,
        title="Agora executor",
        description="Routes tool executions to each agent's own container.",
        # The bucket only for the local runtime, which unpacks submitted packages itself; on Cloud
        # Run, Cloud Build reads them.
        needs=Needs(firestore=True, redis=True, storage=settings.agent_runtime == "local"),
        wire=partial(build, settings),
        max_body_bytes=settings.max_request_bytes,
    )
    for router in (execute.router, deploy.router):
        app.include_router(router)
    return app
