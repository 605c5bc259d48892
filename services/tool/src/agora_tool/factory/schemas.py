"""The checks every tool schema passes: JSON, an object at the root, valid, within the budget."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from agora_common.errors import json_path
from agora_common.schema_budget import assess_schema
from agora_tool.factory.errors import InvalidSchema, problem

MAX_SCHEMA_BYTES = 64 * 1024
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# At the root they would make the model a union or an alias, not the object a tool takes.
_ROOT_REFUSED = ("$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "then", "else")

JsonPath = tuple[str | int, ...]


class TooLarge(ValueError):
    def __init__(self, loc: JsonPath, message: str) -> None:
        super().__init__(message)
        self.loc = loc


def walk(value: Any, *, max_depth: int, max_nodes: int) -> Iterator[tuple[JsonPath, Any]]:
    """Every node of a JSON value, depth first, without recursion; TooLarge past the limits."""
    stack: list[tuple[JsonPath, Any]] = [((), value)]
    seen = 0
    while stack:
        loc, node = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise TooLarge(loc, f"more than {max_nodes} JSON values")
        if len(loc) > max_depth:
            raise TooLarge(loc, f"nested deeper than {max_depth} levels")
        yield loc, node
        if isinstance(node, dict):
            stack.extend(((*loc, key), child) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*loc, i), child) for i, child in reversed(list(enumerate(node))))


def json_problem(
    value: Any, *, max_depth: int = 64, max_nodes: int = 20_000
) -> tuple[JsonPath, str] | None:
    """Where and why `value` is not plain, finite, bounded JSON (object keys are strings)."""
    try:
        for loc, node in walk(value, max_depth=max_depth, max_nodes=max_nodes):
            if isinstance(node, dict) and not all(isinstance(k, str) for k in node):
                return loc, "object keys must be strings"
            if isinstance(node, float) and not math.isfinite(node):
                return loc, "numbers must be finite"
            if not isinstance(node, dict | list | str | int | float | bool | None):
                return loc, f"not a JSON value: {type(node).__name__}"
    except TooLarge as exc:
        return exc.loc, str(exc)
    return None


def check_tool_schema(schema: Any, at: JsonPath) -> dict[str, Any]:
    """`schema`, when it can be a tool's input or output schema; else InvalidSchema at `at`."""
    found = _first_problem(schema) if isinstance(schema, dict) else ((), "must be an object")
    if found is not None:
        loc, message = found
        raise InvalidSchema(details=[problem(json_path((*at, *loc)), message)])
    return dict(schema)


def _first_problem(schema: dict[str, Any]) -> tuple[JsonPath, str] | None:
    plain = json_problem(schema)
    if plain is not None:
        return plain
    if len(json.dumps(schema, separators=(",", ":")).encode()) > MAX_SCHEMA_BYTES:
        return (), f"must be at most {MAX_SCHEMA_BYTES} bytes as JSON"
    if schema.get("type") != "object":
        return ("type",), 'a tool schema must describe an object ("type": "object")'
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        return ("$schema",), f"must be {DRAFT_2020_12} when given"
    for key in _ROOT_REFUSED:
        if key in schema:
            return (key,), "not supported at the root of a tool schema: use properties"
    # The budget first: the metaschema check itself recurses through the schema.
    for found in assess_schema(schema).problems:
        return found.loc, found.message
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        # The metaschema's message quotes the offending value; the path is enough to fix it.
        return tuple(exc.path), f"not a valid JSON Schema (draft 2020-12): fails {exc.validator!r}"
    return None
