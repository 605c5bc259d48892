"""Pydantic models that cross service boundaries."""

from agora_common.models.agent import AgentStatus
from agora_common.models.identity import (
    GATEWAY_IDENTITY_HEADERS,
    HEADER_USER_ADMIN,
    HEADER_USER_EMAIL,
    HEADER_USER_ID,
    HEADER_USER_ROLE,
    CallerKind,
    UserIdentity,
)

__all__ = [
    "GATEWAY_IDENTITY_HEADERS",
    "HEADER_USER_ADMIN",
    "HEADER_USER_EMAIL",
    "HEADER_USER_ID",
    "HEADER_USER_ROLE",
    "AgentStatus",
    "CallerKind",
    "UserIdentity",
]
