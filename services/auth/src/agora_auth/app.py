"""App factory of the auth service."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import firebase_admin
from fastapi import FastAPI

from agora_auth.admin import AdminService
from agora_auth.agent_tokens import AgentTokenService
from agora_auth.firebase_users import FirebaseUsers
from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.keys.envelope import EnvelopeCipher
from agora_auth.keys.repository import ApiKeyRepository
from agora_auth.keys.service import ApiKeyService
from agora_auth.keys.wiring import open_key_wrapper
from agora_auth.profiles import ProfileService
from agora_auth.repository import ProfileRepository
from agora_auth.routes import admin, agent_secrets, api_keys, profile, tokens
from agora_auth.settings import AuthSettings
from agora_common.app import Needs, Resources, create_service_app
from agora_common.audit import AuditLog
from agora_common.firebase import firebase_app_for, token_verifier_for


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    @asynccontextmanager
    async def wire(app: FastAPI) -> AsyncIterator[None]:
        """Build the services on the clients the shared lifespan opened."""
        resources: Resources = app.state.resources
        assert resources.firestore is not None
        db, timeout = resources.firestore, settings.dependency_timeout_s
        async with AsyncExitStack() as stack:
            firebase = firebase_app_for(settings, http_timeout_s=settings.firebase_timeout_s)
            stack.callback(firebase_admin.delete_app, firebase)
            users = FirebaseUsers(firebase, timeout_s=settings.firebase_timeout_s)
            audit = AuditLog(db, timeout_s=timeout)
            verifier = token_verifier_for(
                settings, resources.http, revocation_ttl_s=settings.revocation_ttl_s
            )
            stack.callback(verifier.close)
            app.state.tokens = verifier
            app.state.profiles = ProfileService(ProfileRepository(db, timeout_s=timeout))
            app.state.admins = AdminService(users, audit)
            app.state.agent_tokens = AgentTokenService(users, resources.services, audit)
            # API keys: envelope encryption under Cloud KMS, or the local key file in local mode.
            wrapper = await stack.enter_async_context(open_key_wrapper(settings))
            cipher = EnvelopeCipher(wrapper)
            app.state.api_keys = ApiKeyService(ApiKeyRepository(db, timeout_s=timeout), cipher)
            app.state.agent_secrets = AgentSecrets(db, cipher, timeout_s=timeout)
            yield

    app = create_service_app(
        settings,
        title="Agora auth",
        description="Users and profiles, the admin role, agent tokens, encrypted user API keys.",
        needs=Needs(firestore=True),
        lifespan_hook=wire,
    )
    routers = (tokens.router, profile.router, admin.router, api_keys.router, agent_secrets.router)
    for router in routers:
        app.include_router(router)
    return app
