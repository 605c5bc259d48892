"""App factory of the executor service."""

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_executor.settings import ExecutorSettings


def create_app(settings: ExecutorSettings | None = None) -> FastAPI:
    settings = settings or ExecutorSettings()
    return create_service_app(
        settings,
        title="Agora executor",
        description="Routes tool executions to each agent's own container.",
        needs=Needs(firestore=True, redis=True),
    )
