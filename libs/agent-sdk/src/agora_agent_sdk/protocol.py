"""The body of POST /execute and how validation errors are reported without echoing input."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

MAX_DETAILS = 20
MAX_PATH_CHARS = 200

ProviderName = Annotated[str, Field(min_length=1, max_length=64)]


class CallContext(BaseModel):
    """Who is calling, under which execution, with which provider keys (for this call only)."""

    model_config = ConfigDict(extra="ignore")

    execution_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    caller_uid: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    # SecretStr: a key never shows in a repr, a log line or an error.
    provider_keys: Annotated[dict[ProviderName, SecretStr], Field(max_length=32)] | None = None


class ExecuteRequest(BaseModel):
    """Extra top-level fields are ignored so the platform can add some without breaking agents."""

    model_config = ConfigDict(extra="ignore")

    tool_name: Annotated[str, Field(min_length=1, max_length=64)]
    payload: Any
    context: CallContext


def json_path(loc: tuple[int | str, ...]) -> str:
    """("a", "b", 0) -> "a.b[0]"; the payload itself is ""."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path[:MAX_PATH_CHARS]


def error_details(exc: ValidationError) -> list[dict[str, str]]:
    """Path and message of each error; never pydantic's `input` or `ctx`, which carry the values."""
    return [
        {"path": json_path(err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)[
            :MAX_DETAILS
        ]
    ]


def is_json_error(exc: ValidationError) -> bool:
    return any(err["type"] == "json_invalid" for err in exc.errors(include_url=False))
