"""App factory of the vetting service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from agora_common.app import Needs, create_service_app
from agora_vetting.container import build
from agora_vetting.routes import admin, internal
from agora_vetting.settings import VettingSettings


def create_app(settings: VettingSettings | None = None) -> FastAPI:
    settings = settings or VettingSettings()
    app = create_service_app(
        settings,
        title="Agora vetting",
        description=(
            "The review queue, security scans through Cloud Tasks, approve and deploy; "
            "package checks for the Tool Factory."
        ),
        needs=Needs(firestore=True, storage=True),
        wire=partial(build, settings),
        max_body_bytes=settings.max_body_bytes,
    )
    for router in (internal.router, admin.router):
        app.include_router(router)
    return app
