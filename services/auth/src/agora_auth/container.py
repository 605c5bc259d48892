"""What the auth service's routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

import firebase_admin

from agora_auth.admin import AdminService
from agora_auth.agent_tokens import AgentTokenService
from agora_auth.firebase_users import FirebaseUsers
from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.keys.envelope import EnvelopeCipher
from agora_auth.keys.repository import AgentSecretRepository, ApiKeyRepository
from agora_auth.keys.service import ApiKeyService
from agora_auth.keys.wiring import open_key_wrapper
from agora_auth.personal_tokens.repository import PersonalTokenRepository
from agora_auth.personal_tokens.service import PersonalTokenService
from agora_auth.profiles import ProfileService
from agora_auth.repository import ProfileRepository
from agora_auth.settings import AuthSettings
from agora_common.app import Resources
from agora_common.audit import AuditLog
from agora_common.firebase import FirebaseTokenVerifier, firebase_app_for, token_verifier_for


@dataclass(frozen=True)
class AuthContainer:
    tokens: FirebaseTokenVerifier
    profiles: ProfileService
    admins: AdminService
    agent_tokens: AgentTokenService
    api_keys: ApiKeyService
    agent_secrets: AgentSecrets
    personal_tokens: PersonalTokenService


async def build(
    settings: AuthSettings, resources: Resources, stack: AsyncExitStack
) -> AuthContainer:
    assert resources.firestore is not None
    db, timeout = resources.firestore, settings.dependency_timeout_s
    firebase = firebase_app_for(settings, http_timeout_s=settings.firebase_timeout_s)
    stack.callback(firebase_admin.delete_app, firebase)
    users = FirebaseUsers(firebase, timeout_s=settings.firebase_timeout_s)
    audit = AuditLog(db, timeout_s=timeout)
    verifier = token_verifier_for(
        settings, resources.http, revocation_ttl_s=settings.revocation_ttl_s
    )
    stack.callback(verifier.close)
    # API keys: envelope encryption under Cloud KMS, or the local key file in local mode.
    cipher = EnvelopeCipher(await stack.enter_async_context(open_key_wrapper(settings)))
    return AuthContainer(
        tokens=verifier,
        profiles=ProfileService(ProfileRepository(db, timeout_s=timeout)),
        admins=AdminService(users, audit),
        agent_tokens=AgentTokenService(users, resources.services, audit),
        api_keys=ApiKeyService(ApiKeyRepository(db, timeout_s=timeout), cipher),
        agent_secrets=AgentSecrets(AgentSecretRepository(db, timeout_s=timeout), cipher),
        personal_tokens=PersonalTokenService(PersonalTokenRepository(db, timeout_s=timeout), audit),
    )
