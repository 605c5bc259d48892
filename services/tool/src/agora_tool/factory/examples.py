"""Payloads for a generated package's contract tests: one a schema accepts, some it refuses.

Examples are synthesized from the schema (its own `examples`, `const`, `enum`, formats, bounds)
and kept only when the schema itself accepts them; refusals are single mutations of the valid
example (a required property gone, a property of the wrong type or format, an undeclared one)
that the schema refuses. A schema whose example cannot be built simply gets fewer tests.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from agora_tool.factory.openapi_schema import resolve_pointer

MAX_DEPTH = 12
# Values each format's checkers (pydantic's and JSON Schema's) accept, and one they refuse.
FORMATS: dict[str, tuple[str, str]] = {
    "date-time": ("2024-01-02T03:04:05Z", "yesterday at noon"),
    "date": ("2024-01-02", "2024-13-45"),
    "time": ("03:04:05Z", "25:99"),
    "email": ("user@example.com", "not an email"),
    "uri": ("https://example.com/a", "not a uri"),
    "uuid": ("123e4567-e89b-12d3-a456-426614174000", "not-a-uuid"),
    "ipv4": ("192.0.2.1", "999.0.0.1"),
    "ipv6": ("2001:db8::1", "not:an:address"),
}
_WRONG_TYPE = {"unexpected": ["object"]}  # no scalar, array or Literal accepts an object


class _NoExample(Exception):
    pass


@dataclass(frozen=True)
class Examples:
    valid: Any | None  # None when none could be built
    invalid: tuple[tuple[str, Any], ...]  # (what is wrong, payload)


def examples_for(schema: dict[str, Any]) -> Examples:
    validator = Draft202012Validator(schema)
    valid = None
    for full in (True, False):
        try:
            candidate = _Builder(schema, full).build(schema, 0)
        except _NoExample:
            continue
        if validator.is_valid(candidate):
            valid = candidate
            break
    if not isinstance(valid, dict):
        return Examples(valid, ())
    return Examples(valid, tuple(_mutations(schema, valid, validator)))


def _mutations(
    schema: dict[str, Any], valid: dict[str, Any], validator: Any
) -> list[tuple[str, Any]]:
    """Single changes of `valid` that the schema refuses."""
    refused: list[tuple[str, Any]] = []
    required = [k for k in schema.get("required", []) if k in valid]
    if required:
        refused.append(
            (f"without {required[0]}", {k: v for k, v in valid.items() if k != required[0]})
        )
    properties = schema.get("properties", {})
    typed = [k for k, sub in properties.items() if k in valid and _declares(sub, "type")]
    if typed:
        refused.append((f"{typed[0]} of the wrong type", {**valid, typed[0]: _WRONG_TYPE}))
    if schema.get("additionalProperties") is False:
        refused.append(("an undeclared property", {**valid, "undeclared_property": 1}))
    refused = [(what, payload) for what, payload in refused if not validator.is_valid(payload)]
    # The validator does not check formats (the models do): the table's refusals are known.
    formatted = [k for k, sub in properties.items() if k in valid and _declares(sub, "format")]
    if formatted:
        key = formatted[0]
        kind = properties[key]["format"]
        refused.append((f"{key} not a valid {kind}", {**valid, key: FORMATS[kind][1]}))
    return copy.deepcopy(refused)


def _declares(schema: Any, keyword: str) -> bool:
    if not isinstance(schema, dict) or schema.get(keyword) is None:
        return False
    return keyword != "format" or (schema["format"] in FORMATS and "enum" not in schema)


class _Builder:
    def __init__(self, root: dict[str, Any], full: bool) -> None:
        self._root = root
        self._full = full

    def build(self, schema: Any, depth: int) -> Any:
        if depth > MAX_DEPTH or not isinstance(schema, dict):
            raise _NoExample
        if "$ref" in schema:
            return self.build(resolve_pointer(self._root, schema["$ref"], "$"), depth + 1)
        for key in ("const",):
            if key in schema:
                return copy.deepcopy(schema[key])
        for key in ("examples", "enum"):
            if isinstance(schema.get(key), list) and schema[key]:
                return copy.deepcopy(schema[key][0])
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self.build(schema[key][0], depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None and "properties" in schema:
            kind = "object"
        return self._typed(kind, schema, depth)

    def _typed(self, kind: Any, schema: dict[str, Any], depth: int) -> Any:
        if kind == "object":
            required = set(schema.get("required", []))
            properties = schema.get("properties", {})
            return {
                key: self.build(sub, depth + 1)
                for key, sub in properties.items()
                if key in required or self._full
            }
        if kind == "array":
            count = max(1, int(schema.get("minItems", 0)))
            if schema.get("maxItems") == 0:
                return []
            item = self.build(schema.get("items", {"type": "string"}), depth + 1)
            return [copy.deepcopy(item) for _ in range(count)]
        if kind == "string":
            if schema.get("format") in FORMATS:
                return FORMATS[schema["format"]][0]
            return "x" * max(1, int(schema.get("minLength", 1)))
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return "anything"


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    low = schema.get("minimum")
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    value: float = low if isinstance(low, int | float) else 0
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        value = math.ceil(value / step) * step
    return math.ceil(value) if integer else float(value)
