"""App factory of the vetting service."""

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_vetting.settings import VettingSettings


def create_app(settings: VettingSettings | None = None) -> FastAPI:
    settings = settings or VettingSettings()
    return create_service_app(
        settings,
        title="Agora vetting",
        description="The review queue, security scans, approve/reject, deploy.",
        needs=Needs(firestore=True),
    )
