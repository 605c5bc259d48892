"""The auth service's request and answer bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agora_common.models.fields import plain_text


def one_line(value: str) -> str:
    if value != value.strip() or any(ch in value for ch in "\t\r\n"):
        raise ValueError("must be one line without leading or trailing spaces")
    return value


class Profile(BaseModel):
    uid: str
    email: str | None = None
    display_name: str | None = None
    # Mirrors the `admin` custom claim of the token the profile was last read with.
    admin: bool = False
    created_at: datetime
    updated_at: datetime


class ProfileUpdate(BaseModel):
    """What a user may change; anything else (uid, email, admin, timestamps) is a 422."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[
        str,
        Field(min_length=1, max_length=100),
        AfterValidator(plain_text),
        AfterValidator(one_line),
    ]


class TokenToVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_token: str = Field(min_length=1, max_length=16_384)


class TokenInfo(BaseModel):
    uid: str
    email: str | None
    admin: bool
    role: str  # "user" or "agent"
    claims: dict[str, Any]


class AdminStatus(BaseModel):
    uid: str
    admin: bool


class UserRecord(BaseModel):
    """A user as Firebase Auth holds it, for the admins' list."""

    uid: str
    email: str | None
    display_name: str | None
    disabled: bool
    admin: bool
    created_at: datetime | None


class UserPage(BaseModel):
    users: list[UserRecord]
    next_page_token: str | None = None


class AgentTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class AgentToken(BaseModel):
    """A Firebase custom token: the agent exchanges it with `signInWithCustomToken`."""

    custom_token: str
    uid: str
    agent_id: str
    expires_in: int = 3600
