"""FastAPI dependencies shared by the auth service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_auth.admin import AdminService
from agora_auth.agent_tokens import AgentTokenService
from agora_auth.profiles import ProfileService
from agora_common.app import from_state
from agora_common.firebase import FirebaseTokenVerifier

Profiles = Annotated[ProfileService, Depends(from_state("profiles"))]
Admins = Annotated[AdminService, Depends(from_state("admins"))]
AgentTokens = Annotated[AgentTokenService, Depends(from_state("agent_tokens"))]
Tokens = Annotated[FirebaseTokenVerifier, Depends(from_state("tokens"))]
