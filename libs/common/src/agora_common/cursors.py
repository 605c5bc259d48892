"""Opaque keyset-pagination cursors, tied to the query they came from.

A cursor carries the sort key to resume after and a check over the query's parameters and that
key: an edited cursor, or one moved to another query, is refused with 400 INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence

from agora_common.errors import BadRequest

MAX_CURSOR_KEY_CHARS = 400


class InvalidCursor(BadRequest):
    code, message = "INVALID_CURSOR", "The cursor is not valid for this query"


def cursor_check(material: Sequence[object], key: str) -> str:
    """What ties a cursor to its query (`material`, JSON-serialisable) and its key."""
    return hashlib.sha256(json.dumps([*material, key]).encode()).hexdigest()[:24]


def encode_cursor(key: str, check: str) -> str:
    raw = json.dumps({"k": key, "c": check}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(sort key to resume after, check) of a cursor; InvalidCursor (400) for anything else."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(data, dict) or set(data) != {"k", "c"}:
        raise InvalidCursor()
    key, check = data["k"], data["c"]
    if not isinstance(key, str) or not isinstance(check, str) or len(key) > MAX_CURSOR_KEY_CHARS:
        raise InvalidCursor()
    return key, check


def resume_after(cursor: str | None, material: Sequence[object]) -> str | None:
    """The key a page starts after: None without a cursor; InvalidCursor for a foreign one."""
    if cursor is None:
        return None
    key, check = decode_cursor(cursor)
    if check != cursor_check(material, key):
        raise InvalidCursor()
    return key


def next_cursor(key: str | None, material: Sequence[object]) -> str | None:
    return encode_cursor(key, cursor_check(material, key)) if key is not None else None
