"""Free text from a document made fit for a card: no control or bidi characters, bounded."""

from __future__ import annotations

import unicodedata
from typing import Any

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    control = category == "Cc" and ch not in "\t\n\r"
    return not (control or ch in _BIDI_CONTROLS or category in ("Cs", "Cn"))


def plain_line(value: Any, max_chars: int) -> str:
    """`value` as card text (the characters a card refuses removed), at most `max_chars`; or ""."""
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(ch for ch in value if _kept(ch)).split())
    return text[:max_chars].rstrip()
