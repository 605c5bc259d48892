"""From an OpenAPI document, one tool per chosen operation: its call, its input and output."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from agora_common.models.card import MAX_TOOL_DESCRIPTION_CHARS
from agora_tool.factory.errors import InvalidOpenAPI, InvalidSchema, UnknownOperation, problem
from agora_tool.factory.naming import snake_case, tool_name
from agora_tool.factory.openapi_document import AT, load_document
from agora_tool.factory.openapi_schema import SchemaConverter, resolve_pointer
from agora_tool.factory.schemas import check_tool_schema
from agora_tool.factory.text import plain_line

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_KNOWN_LISTED = 50
BODY = "body"
# Headers a parameter may not set: OpenAPI ignores the first three, the client owns the rest.
_RESERVED_HEADERS = frozenset(
    {
        "accept",
        "content-type",
        "authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "cookie",
        "accept-encoding",
    }
)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_JSON_MEDIA = re.compile(r"application/(?:[\w.+-]+\+)?json(?:\s*;.*)?", re.IGNORECASE)

Location = Literal["path", "query", "header"]


@dataclass(frozen=True)
class Parameter:
    key: str  # its property in the tool's input
    name: str  # its name on the wire
    location: Location
    required: bool


@dataclass(frozen=True)
class HttpOperation:
    operation_id: str
    tool_name: str
    description: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_key: str | None  # the input property sent as the JSON body
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None


@dataclass(frozen=True)
class HttpApi:
    base_url: str
    operations: tuple[HttpOperation, ...]


def derive_api(
    source: dict[str, Any] | str, operation_ids: Sequence[str], base_url: str | None = None
) -> HttpApi:
    """The chosen operations of a document as tools; InvalidOpenAPI or UnknownOperation if not."""
    document = load_document(source)
    index = _index(document)
    unknown = [
        problem(f"$.operation_ids[{i}]", "no operation of the document has this operationId")
        for i, op_id in enumerate(operation_ids)
        if op_id not in index
    ]
    if unknown:
        known = sorted(index)[:MAX_KNOWN_LISTED]
        raise UnknownOperation(
            f"Known operationIds: {', '.join(known) or 'none'}"
            + (" (and more)" if len(index) > MAX_KNOWN_LISTED else ""),
            details=[{**entry, "known": known} for entry in unknown],
        )
    converter = SchemaConverter(document)
    operations = [_operation(document, converter, op_id, *index[op_id]) for op_id in operation_ids]
    names = [op.tool_name.lower() for op in operations]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise InvalidOpenAPI(
                details=[problem(f"$.operation_ids[{i}]", "two operations make one tool name")]
            )
    return HttpApi(_base_url(document, base_url), tuple(operations))


def _index(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            if not isinstance(op_id, str) or op_id in found:
                raise InvalidOpenAPI(
                    details=[problem(f"{AT}.paths.{path}.{method}", "operationIds must be unique")]
                )
            found[op_id] = (path, method)
    return found


def _base_url(document: dict[str, Any], override: str | None) -> str:
    if override is not None:
        return override.rstrip("/")
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        raise InvalidOpenAPI(details=[problem(f"{AT}.servers", "no server: give base_url")])
    url = servers[0].get("url")
    variables = servers[0].get("variables") or {}
    if isinstance(url, str) and isinstance(variables, dict):
        for name, variable in variables.items():
            default = variable.get("default") if isinstance(variable, dict) else None
            if isinstance(default, str):
                url = url.replace(f"{{{name}}}", default)
    parts = urlsplit(url) if isinstance(url, str) and "{" not in url else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidOpenAPI(
            details=[problem(f"{AT}.servers[0].url", "not an absolute http(s) URL: give base_url")]
        )
    return str(url).rstrip("/")


def _operation(
    document: dict[str, Any], converter: SchemaConverter, op_id: str, path: str, method: str
) -> HttpOperation:
    item = document["paths"][path]
    operation = item[method]
    at = f"{AT}.paths.{path}.{method}"
    name = tool_name(snake_case(op_id))
    parameters, properties = _parameters(document, converter, item, operation, at)
    declared = {p.name for p in parameters if p.location == "path"}
    for placeholder in _PLACEHOLDER.findall(path):
        if placeholder not in declared:
            raise InvalidOpenAPI(
                details=[problem(at, f"path parameter {placeholder} is not declared")]
            )
    required = [p.key for p in parameters if p.required]
    body = _body(document, converter, operation, at)
    body_key = None
    if body is not None:
        body_key = BODY if BODY not in properties else f"{BODY}_"
        properties[body_key], body_required = body
        if body_required:
            required.append(body_key)
    input_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        input_schema["required"] = required
    return HttpOperation(
        operation_id=op_id,
        tool_name=name,
        description=_description(operation, method, path),
        method=method.upper(),
        path=path,
        parameters=parameters,
        body_key=body_key,
        input_schema=_checked(input_schema, at),
        output_schema=_output(document, converter, operation, at),
    )


def _parameters(
    document: dict[str, Any],
    converter: SchemaConverter,
    item: dict[str, Any],
    operation: dict[str, Any],
    at: str,
) -> tuple[tuple[Parameter, ...], dict[str, Any]]:
    merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for where, raw in (("parameters", item.get("parameters")), ("op", operation.get("parameters"))):
        for i, entry in enumerate(raw if isinstance(raw, list) else []):
            spot = f"{at}.parameters[{i}]" if where == "op" else f"{AT}.parameters[{i}]"
            if isinstance(entry, dict) and "$ref" in entry:
                entry = resolve_pointer(document, entry["$ref"], f"{spot}.$ref")
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise InvalidOpenAPI(details=[problem(spot, "a parameter needs a name and an in")])
            merged[(entry["name"], str(entry.get("in")))] = (entry, spot)  # the operation's win
    parameters: list[Parameter] = []
    properties: dict[str, Any] = {}
    names = [name for name, _ in merged]
    for (name, location), (entry, spot) in merged.items():
        if location not in ("path", "query", "header") or (
            location == "header" and name.lower() in _RESERVED_HEADERS
        ):
            continue  # cookies are not sent; reserved headers are the client's
        key = name if names.count(name) == 1 and name != BODY else f"{location}_{name}"
        raw_schema = entry.get("schema")
        if raw_schema is None and isinstance(entry.get("content"), dict) and entry["content"]:
            raw_schema = next(iter(entry["content"].values())).get("schema")
        schema = converter.convert(raw_schema if raw_schema is not None else {}, f"{spot}.schema")
        if isinstance(entry.get("description"), str) and "description" not in schema:
            schema["description"] = entry["description"]
        properties[key] = schema
        required = location == "path" or entry.get("required") is True
        parameters.append(Parameter(key, name, location, required))  # type: ignore[arg-type]
    return tuple(parameters), properties


def _json_content(container: Any) -> dict[str, Any] | None:
    """The media type object of the first JSON media type, if any."""
    content = container.get("content") if isinstance(container, dict) else None
    if not isinstance(content, dict):
        return None
    for media, value in content.items():
        if _JSON_MEDIA.fullmatch(media) and isinstance(value, dict):
            return value
    return None


def _body(
    document: dict[str, Any], converter: SchemaConverter, operation: dict[str, Any], at: str
) -> tuple[dict[str, Any], bool] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    if isinstance(body, dict) and "$ref" in body:
        body = resolve_pointer(document, body["$ref"], f"{at}.requestBody.$ref")
    media = _json_content(body)
    if media is None:
        raise InvalidOpenAPI(
            details=[problem(f"{at}.requestBody", "only JSON request bodies are supported")]
        )
    schema = converter.convert(media.get("schema", {}), f"{at}.requestBody.schema")
    return schema, bool(isinstance(body, dict) and body.get("required") is True)


def _output(
    document: dict[str, Any], converter: SchemaConverter, operation: dict[str, Any], at: str
) -> dict[str, Any] | None:
    """The schema of the first 2xx JSON answer, when it describes an object."""
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return None
    for status in sorted(str(s) for s in responses):
        if not (status.startswith("2") and len(status) == 3):
            continue
        response = responses[status]
        if isinstance(response, dict) and "$ref" in response:
            response = resolve_pointer(document, response["$ref"], f"{at}.responses.{status}")
        media = _json_content(response)
        if media is None or "schema" not in media:
            return None
        schema = converter.convert(media["schema"], f"{at}.responses.{status}.schema")
        return _checked(schema, at) if schema.get("type") == "object" else None
    return None


def _checked(schema: dict[str, Any], at: str) -> dict[str, Any]:
    try:
        return check_tool_schema(schema, ())
    except InvalidSchema as exc:
        where = (exc.details or [{}])[0]
        message = f"the schema derived for this operation: {where.get('message', 'invalid')}"
        raise InvalidOpenAPI(details=[problem(at, f"{message} (at {where.get('path')})")]) from None


def _description(operation: dict[str, Any], method: str, path: str) -> str:
    for key in ("summary", "description"):
        text = plain_line(operation.get(key), MAX_TOOL_DESCRIPTION_CHARS)
        if text:
            return text
    return f"{method.upper()} {path}"
