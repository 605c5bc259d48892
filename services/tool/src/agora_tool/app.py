"""App factory of the tool service."""

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_tool.settings import ToolSettings


def create_app(settings: ToolSettings | None = None) -> FastAPI:
    settings = settings or ToolSettings()
    return create_service_app(
        settings,
        title="Agora tool",
        description="The tool catalog, versions and the Tool Factory.",
        needs=Needs(firestore=True),
    )
