"""Field types every service's models share: plain text, display names, web URLs, strict bodies."""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_NAME_CHARS = 64
MAX_URL_CHARS = 2048

# Bidi embeddings, overrides, isolates and marks: they make text display unlike what it is.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_NAME_PUNCTUATION = frozenset(" -_.")


def plain_text(value: str) -> str:
    """Free text: no control characters (tabs and newlines aside), bidi controls or surrogates."""
    for ch in value:
        category = unicodedata.category(ch)
        control = category == "Cc" and ch not in "\t\n\r"
        if control or ch in _BIDI_CONTROLS or category in ("Cs", "Cn"):
            raise ValueError("contains control, bidi or unassigned characters")
    return value


def display_name(value: str) -> str:
    """Letters, marks, digits, spaces and - _ . only; NFC; starts with a letter or digit."""
    if value != value.strip() or "  " in value:
        raise ValueError("must not start or end with spaces or contain double spaces")
    for ch in value:
        if ch not in _NAME_PUNCTUATION and unicodedata.category(ch)[0] not in "LMN":
            raise ValueError("only letters, digits, spaces and - _ . are allowed")
    if unicodedata.category(value[0])[0] not in "LN":
        raise ValueError("must start with a letter or digit")
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError("must be in Unicode normalization form C")
    return value


def web_url(value: str) -> str:
    """An absolute http(s) URL with a host and no credentials; the scheme policy is the caller's."""
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    return value


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


DisplayName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(display_name)
]
WebUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(web_url)]


class Strict(BaseModel):
    """Unknown fields are refused, so server-owned fields in a client body are never honoured."""

    model_config = ConfigDict(extra="forbid")
