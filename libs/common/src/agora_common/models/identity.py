"""The end-user identity the gateway verifies and hands to services in headers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

HEADER_USER_ID = "X-User-ID"
HEADER_USER_EMAIL = "X-User-Email"
HEADER_USER_ADMIN = "X-User-Admin"
HEADER_USER_ROLE = "X-User-Role"
# Set only by the gateway from a verified token; stripped from every client request.
GATEWAY_IDENTITY_HEADERS = (HEADER_USER_ID, HEADER_USER_EMAIL, HEADER_USER_ADMIN, HEADER_USER_ROLE)


class CallerKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    AGENT = "agent"


class UserIdentity(BaseModel):
    """Who is calling, as the gateway verified it."""

    model_config = ConfigDict(frozen=True)

    kind: CallerKind = CallerKind.ANONYMOUS
    uid: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320)
    admin: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.kind is CallerKind.ANONYMOUS
