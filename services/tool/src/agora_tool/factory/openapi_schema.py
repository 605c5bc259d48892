"""OpenAPI schemas as self-contained JSON Schema 2020-12: local refs inlined, 3.0 translated."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

from agora_tool.factory.errors import InvalidOpenAPI, problem

MAX_REF_DEPTH = 16
MAX_SCHEMA_NODES = 5_000

# Keywords whose value is a schema, a map of schemas, or a list of schemas; the rest is data.
_ONE = (
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_MAP = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
# OpenAPI's own annotations: meaningless to a JSON Schema validator or a model generator.
_DROPPED = frozenset({"discriminator", "xml", "externalDocs", "example", "nullable"})


def resolve_pointer(document: dict[str, Any], ref: Any, at: str) -> Any:
    """The value a local `#/...` reference points to; InvalidOpenAPI for any other reference."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise InvalidOpenAPI(
            details=[problem(at, "only references inside the document (#/...) are allowed")]
        )
    node: Any = document
    for raw in ref[2:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise InvalidOpenAPI(details=[problem(at, f"the reference {ref!r} leads nowhere")])
    return node


class SchemaConverter:
    """Converts the schemas of one document; each conversion has its own node budget."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self._legacy = str(document.get("openapi", "")).startswith("3.0")
        self._nodes = 0

    def convert(self, schema: Any, at: str) -> dict[str, Any]:
        self._nodes = 0
        converted = self._schema(schema, at, ())
        return converted if isinstance(converted, dict) else {}

    def _schema(self, schema: Any, at: str, refs: tuple[str, ...]) -> Any:
        self._nodes += 1
        if self._nodes > MAX_SCHEMA_NODES:
            raise InvalidOpenAPI(
                details=[problem(at, f"expands to more than {MAX_SCHEMA_NODES} subschemas")]
            )
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            raise InvalidOpenAPI(details=[problem(at, "a schema must be an object")])
        if "$ref" in schema:
            return self._reference(schema, at, refs)
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DROPPED or key.startswith("x-"):
                continue
            if key in _ONE and isinstance(value, dict | bool):
                out[key] = self._schema(value, f"{at}.{key}", refs)
            elif key in _MAP and isinstance(value, dict):
                out[key] = {
                    name: self._schema(child, f"{at}.{key}.{name}", refs)
                    for name, child in value.items()
                }
            elif key in _LIST and isinstance(value, list):
                out[key] = [
                    self._schema(child, f"{at}.{key}[{i}]", refs) for i, child in enumerate(value)
                ]
            else:
                out[key] = copy.deepcopy(value)
        return self._from_legacy(schema, out) if self._legacy else out

    def _reference(self, schema: dict[str, Any], at: str, refs: tuple[str, ...]) -> Any:
        ref = schema["$ref"]
        if ref in refs:
            raise InvalidOpenAPI(
                details=[problem(at, "recursive schemas are not supported by generated tools")]
            )
        if len(refs) >= MAX_REF_DEPTH:
            raise InvalidOpenAPI(
                details=[problem(at, f"references nest deeper than {MAX_REF_DEPTH} levels")]
            )
        target = self._schema(
            resolve_pointer(self._document, ref, f"{at}.$ref"), f"{at}.$ref", (*refs, ref)
        )
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if self._legacy or not siblings:
            return target  # OpenAPI 3.0 ignores a reference's siblings
        rest = self._schema(siblings, at, refs)
        return {**rest, "allOf": [*rest.get("allOf", []), target]}

    @staticmethod
    def _from_legacy(schema: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        """OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum`."""
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if isinstance(out.get(exclusive), bool) and out.pop(exclusive) and bound in out:
                out[exclusive] = out.pop(bound)
        if schema.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        return out
