"""What personal tokens look like on the wire and in `personal_tokens/{token_id}`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agora_auth.models import one_line
from agora_common.models import TokenScope
from agora_common.models.fields import plain_text

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs) and
# the gateway tells it apart from a Firebase ID token without parsing it.
TOKEN_PREFIX = "agora_pat_"  # noqa: S105 (the public prefix, no secret)
# What the owner sees of a token later: the fixed prefix and the secret's first 4 characters.
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4
MAX_TOKEN_LENGTH = 128
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 365, 90
MAX_SPEND_LIMIT_USD = 1_000_000


class TokenRequest(BaseModel):
    """What a user may choose; the id, secret, owner and timestamps are the server's."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        Field(min_length=1, max_length=100),
        AfterValidator(plain_text),
        AfterValidator(one_line),
    ]
    scope: TokenScope  # "read" or "execute": there is no admin scope
    expires_in_days: int = Field(default=DEFAULT_DAYS, ge=MIN_DAYS, le=MAX_DAYS)
    monthly_spend_limit_usd: float | None = Field(default=None, gt=0, le=MAX_SPEND_LIMIT_USD)


class TokenView(BaseModel):
    """A token as its owner sees it in the list: never the secret, nor its hash."""

    token_id: str
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it by")
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    monthly_spend_limit_usd: float | None = None


class CreatedToken(TokenView):
    """The answer to a creation: the only time the token itself is ever shown."""

    token: str = Field(description="The token: shown this once, it cannot be recovered")


class TokenList(BaseModel):
    tokens: list[TokenView]


class TokenToCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class TokenGrant(BaseModel):
    """Who a valid token speaks for, and what it may do (for the gateway)."""

    uid: str
    email: str | None = None
    token_id: str
    scope: TokenScope
    expires_at: datetime
    monthly_spend_limit_usd: float | None = None


class StoredToken(BaseModel):
    """`personal_tokens/{token_id}`: only the secret's SHA-256 is kept."""

    token_id: str
    uid: str
    email: str | None = None
    name: str
    prefix: str
    secret_sha256: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    monthly_spend_limit_usd: float | None = None

    def view(self) -> TokenView:
        return TokenView.model_validate(self.model_dump(exclude={"uid", "email", "secret_sha256"}))

    def document(self) -> dict[str, Any]:
        return self.model_dump() | {"scope": self.scope.value}
