"""The registry's card rules, checked when an agent is declared so a bad card fails at import.

The SDK does not depend on agora-common (third parties use it), so these mirror the rules of the
platform's `AgentCard`; tests/sdk validates generated cards against the real model.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 2000
MAX_TOOL_DESCRIPTION_CHARS = 1000
MAX_TOOLS = 64
MAX_TAGS = 16
MAX_CARD_BYTES = 128 * 1024

_TOOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
_PROVIDER = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _plain_text(what: str, value: str, max_chars: int) -> str:
    if not 1 <= len(value) <= max_chars:
        raise ValueError(f"{what} must be 1-{max_chars} characters")
    for ch in value:
        category = unicodedata.category(ch)
        if (
            (category == "Cc" and ch not in "\t\n\r")
            or ch in _BIDI_CONTROLS
            or category in ("Cs", "Cn")
        ):
            raise ValueError(f"{what} contains control, bidi or unassigned characters")
    return value


def check_name(name: str) -> str:
    """A display name: letters, digits, single spaces and - _ . ; starts with a letter or digit."""
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValueError(f"the agent name must be 1-{MAX_NAME_CHARS} characters")
    if name != name.strip() or "  " in name:
        raise ValueError("the agent name must not start or end with spaces or hold double spaces")
    if any(ch not in " -_." and unicodedata.category(ch)[0] not in "LMN" for ch in name):
        raise ValueError("the agent name may hold only letters, digits, spaces and - _ .")
    if unicodedata.category(name[0])[0] not in "LN":
        raise ValueError("the agent name must start with a letter or digit")
    if unicodedata.normalize("NFC", name) != name:
        raise ValueError("the agent name must be in Unicode normalization form C")
    return name


def check_description(description: str) -> str:
    return _plain_text("the agent description", description, MAX_DESCRIPTION_CHARS)


def check_version(version: str) -> str:
    if not _SEMVER.fullmatch(version):
        raise ValueError("the version must be a semantic version such as 1.0.0")
    return version


def check_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise ValueError(f"tag {tag!r} must be 1-32 lowercase letters, digits or -")
    if len(set(tags)) != len(tags):
        raise ValueError("tags must be unique")
    return tags


def check_provider_keys(providers: tuple[str, ...]) -> tuple[str, ...]:
    for provider in providers:
        if not _PROVIDER.fullmatch(provider):
            raise ValueError(f"provider {provider!r} must be lowercase, e.g. 'openai'")
    if len(set(providers)) != len(providers):
        raise ValueError("provider_keys must be unique")
    return providers


def check_tool_name(name: str) -> str:
    if not _TOOL_NAME.fullmatch(name):
        raise ValueError(
            f"tool name {name!r} must start with a letter, use only letters, digits, _ and -, "
            "and be at most 64 characters"
        )
    return name


def check_tool_description(description: str) -> str:
    return _plain_text("a tool description", description, MAX_TOOL_DESCRIPTION_CHARS)
