"""FastAPI dependencies shared by the auth service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agora_auth.admin import AdminService
from agora_auth.agent_tokens import AgentTokenService
from agora_auth.profiles import ProfileService
from agora_common.firebase import FirebaseTokenVerifier


def _state(name: str):  # type: ignore[no-untyped-def]
    def get(request: Request) -> object:
        return getattr(request.app.state, name)

    return get


Profiles = Annotated[ProfileService, Depends(_state("profiles"))]
Admins = Annotated[AdminService, Depends(_state("admins"))]
AgentTokens = Annotated[AgentTokenService, Depends(_state("agent_tokens"))]
Tokens = Annotated[FirebaseTokenVerifier, Depends(_state("tokens"))]
