"""What a generated HTTP tool's own tests send, and what its fake upstream must then see.

The expectations are computed here, apart from the generated client, so the package's tests
check its request building against an independent account of the same rules: path parameters
percent-encoded (a `/` included), query values repeated per list item, declared headers only,
the JSON body as given.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from agora_tool.factory.blueprint import ToolPlan
from agora_tool.factory.examples import Examples, examples_for
from agora_tool.factory.openapi import HttpOperation

TRICKY_PATH_VALUE = "a/b c?d"


@dataclass(frozen=True)
class HttpCase:
    payload: dict[str, Any]
    method: str
    path: str  # below the base URL's path
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lowercase names
    body: Any
    invalid: tuple[tuple[str, Any], ...]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def http_case(tool: ToolPlan) -> HttpCase | None:
    """The case for one tool, or None when its input admits no example to send."""
    operation = tool.http
    if operation is None:
        raise ValueError("not an HTTP tool")
    found: Examples = examples_for(tool.input_schema)
    if not isinstance(found.valid, dict):
        return None
    payload = _with_tricky_path_values(operation, tool.input_schema, found.valid)
    path = operation.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    for parameter in operation.parameters:
        value = payload.get(parameter.key)
        if value is None:
            continue
        if parameter.location == "path":
            path = path.replace(f"{{{parameter.name}}}", quote(_text(value), safe=""))
        elif parameter.location == "query":
            query.extend(
                (parameter.name, _text(v)) for v in (value if isinstance(value, list) else [value])
            )
        else:
            headers[parameter.name.lower()] = _text(value)
    body = payload.get(operation.body_key) if operation.body_key else None
    return HttpCase(payload, operation.method, path, query, headers, body, found.invalid)


def _with_tricky_path_values(
    operation: HttpOperation, schema: dict[str, Any], valid: dict[str, Any]
) -> dict[str, Any]:
    """`valid` with a `/`, a space and a `?` in each free-form string path parameter."""
    validator = Draft202012Validator(schema)
    payload = copy.deepcopy(valid)
    for parameter in operation.parameters:
        if parameter.location != "path" or not isinstance(payload.get(parameter.key), str):
            continue
        tried = {**payload, parameter.key: TRICKY_PATH_VALUE}
        if validator.is_valid(tried):
            payload = tried
    return payload
