"""The providers a user may store a key for, and what a key may look like: the one list."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

from agora_common.models import KeyProvider

# The one list lives with the card model: agents name providers in `metadata.provider_keys`.
Provider = KeyProvider


API_KEY_MIN_LENGTH = 16
API_KEY_MAX_LENGTH = 512
# What the providers' keys are made of (sk-proj-..., sk-ant-api03-..., AIza..., gsk_...): base64 and
# base64url characters plus '.' and ':'. Nothing else, so no whitespace or control characters.
API_KEY_PATTERN = r"^[A-Za-z0-9_\-.~+/=:]+$"
_API_KEY = re.compile(API_KEY_PATTERN)


def _check_api_key(value: SecretStr) -> SecretStr:
    # The messages never quote the value: validation details go back to the client.
    key = value.get_secret_value()
    if not API_KEY_MIN_LENGTH <= len(key) <= API_KEY_MAX_LENGTH:
        raise ValueError(f"must be {API_KEY_MIN_LENGTH}-{API_KEY_MAX_LENGTH} characters")
    if not _API_KEY.fullmatch(key):
        raise ValueError("may hold only letters, digits and _-.~+/=:")
    return value


# A SecretStr, so that a stray repr or log of the parsed body shows asterisks.
ApiKeyValue = Annotated[
    SecretStr,
    AfterValidator(_check_api_key),
    Field(
        json_schema_extra={
            "minLength": API_KEY_MIN_LENGTH,
            "maxLength": API_KEY_MAX_LENGTH,
            "pattern": API_KEY_PATTERN,
        }
    ),
]
