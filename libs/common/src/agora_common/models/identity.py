"""The end-user identity the gateway verifies and hands to services in headers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

HEADER_USER_ID = "X-User-ID"
HEADER_USER_EMAIL = "X-User-Email"
HEADER_USER_ADMIN = "X-User-Admin"
HEADER_USER_ROLE = "X-User-Role"
# Set when the caller presented a personal API token instead of an ID token (see the auth
# service's personal tokens): which token, its scope, and its monthly spend limit in USD.
HEADER_TOKEN_ID = "X-User-Token-ID"  # noqa: S105 (a header name)
HEADER_TOKEN_SCOPE = "X-User-Token-Scope"  # noqa: S105
HEADER_TOKEN_SPEND_LIMIT = "X-User-Token-Spend-Limit"  # noqa: S105
# Set only by the gateway from a verified token; stripped from every client request.
GATEWAY_IDENTITY_HEADERS = (
    HEADER_USER_ID,
    HEADER_USER_EMAIL,
    HEADER_USER_ADMIN,
    HEADER_USER_ROLE,
    HEADER_TOKEN_ID,
    HEADER_TOKEN_SCOPE,
    HEADER_TOKEN_SPEND_LIMIT,
)


class CallerKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    AGENT = "agent"


class TokenScope(StrEnum):
    """What a personal API token may do: read routes only, or also execute tools."""

    READ = "read"
    EXECUTE = "execute"


class UserIdentity(BaseModel):
    """Who is calling, as the gateway verified it."""

    model_config = ConfigDict(frozen=True)

    kind: CallerKind = CallerKind.ANONYMOUS
    uid: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320)
    admin: bool = False
    # Set only for a caller signed in with a personal API token (never an admin).
    token_id: str | None = Field(default=None, max_length=64)
    token_scope: TokenScope | None = None
    token_spend_limit_usd: float | None = Field(default=None, gt=0)

    @property
    def via_personal_token(self) -> bool:
        return self.token_id is not None

    @property
    def is_anonymous(self) -> bool:
        return self.kind is CallerKind.ANONYMOUS
