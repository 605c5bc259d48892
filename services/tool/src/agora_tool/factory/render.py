"""The Jinja environment of the package templates, and the only ways a value enters them.

Templates are code, so autoescape is off; instead every value a person supplied goes through a
filter that makes it one literal of the target language, whatever it holds (quotes, newlines,
`\"\"\"`, `{{`): `pyrepr` for Python, `toml` for TOML strings, `tojson` for JSON. Jinja never
evaluates what a value contains, and StrictUndefined fails on a missing variable instead of
rendering nothing.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


def pyrepr(value: Any) -> str:
    """A Python literal for a JSON value (str, int, float, bool, None; lists, tuples, dicts)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str | int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("no Python literal for a non-finite number")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(pyrepr(item) for item in value) + "]"
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(pyrepr(item) for item in value) + ("," if len(value) == 1 else "") + ")"
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pyrepr(k)}: {pyrepr(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and every control character is escaped."""
    escaped = json.dumps(value, ensure_ascii=False)
    return "".join(f"\\u{ord(ch):04x}" if ch == "\x7f" else ch for ch in escaped)


def tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent, sort_keys=False)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("agora_tool.factory", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - code, not HTML: values go through the filters above
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pyrepr"] = pyrepr
    env.filters["toml"] = toml_string
    env.filters["tojson"] = tojson
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
