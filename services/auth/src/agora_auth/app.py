"""App factory of the auth service."""

from functools import partial

from fastapi import FastAPI

from agora_auth.container import build
from agora_auth.routes import admin, agent_secrets, api_keys, personal_tokens, profile, tokens
from agora_auth.settings import AuthSettings
from agora_common.app import Needs, create_service_app


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    app = create_service_app(
        settings,
        title="Agora auth",
        description=(
            "Users and profiles, the admin role, agent tokens, encrypted user API keys, "
            "personal API tokens."
        ),
        needs=Needs(firestore=True),
        wire=partial(build, settings),
    )
    routers = (
        tokens.router,
        profile.router,
        admin.router,
        api_keys.router,
        agent_secrets.router,
        personal_tokens.router,
    )
    for router in routers:
        app.include_router(router)
    return app
