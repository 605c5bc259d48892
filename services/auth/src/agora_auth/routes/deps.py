"""FastAPI dependencies shared by the auth service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_auth.admin import AdminService
from agora_auth.agent_tokens import AgentTokenService
from agora_auth.container import AuthContainer
from agora_auth.profiles import ProfileService
from agora_common.app import provide
from agora_common.firebase import FirebaseTokenVerifier

Profiles = Annotated[ProfileService, Depends(provide(AuthContainer, lambda c: c.profiles))]
Admins = Annotated[AdminService, Depends(provide(AuthContainer, lambda c: c.admins))]
AgentTokens = Annotated[
    AgentTokenService, Depends(provide(AuthContainer, lambda c: c.agent_tokens))
]
Tokens = Annotated[FirebaseTokenVerifier, Depends(provide(AuthContainer, lambda c: c.tokens))]
