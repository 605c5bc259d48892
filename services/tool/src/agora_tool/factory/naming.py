"""Names derived from what the owner typed: package slugs, tool names, Python identifiers."""

from __future__ import annotations

import keyword
import re

_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
MAX_TOOL_NAME = 64
# Names the generated agent module binds itself: a tool function may not take them.
RESERVED = frozenset({"agent", "annotations", "models", "upstream", "implementation", "payload"})


def slug(name: str) -> str:
    """`Weather Tool-2` -> `weather_tool_2`: lowercase ASCII letters, digits and single `_`."""
    return _SEPARATORS.sub("_", name).strip("_").lower()


def snake_case(text: str) -> str:
    """`getPetById` -> `get_pet_by_id`, `list-pets` -> `list_pets`, `HTTPCode` -> `http_code`."""
    return slug(_CAMEL.sub("_", text))


def pascal_case(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def tool_name(snake: str) -> str:
    """A card tool name (starts with a letter, at most 64): `2fa` -> `op_2fa`."""
    name = snake if snake[:1].isalpha() else f"op_{snake}"
    return name[:MAX_TOOL_NAME].rstrip("_")


def function_name(name: str) -> str:
    """A Python function name for a tool name that is a keyword or one the module uses."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED:
        return f"{name}_tool"
    return name
