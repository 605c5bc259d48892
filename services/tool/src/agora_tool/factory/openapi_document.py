"""An owner's OpenAPI document read safely: bounded size, depth and node count, no YAML tricks."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import yaml
from yaml.composer import ComposerError

from agora_common.errors import json_path
from agora_tool.factory.errors import InvalidOpenAPI, problem
from agora_tool.factory.schemas import json_problem

MAX_OPENAPI_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
_VERSION = re.compile(r"3\.[01]\.[0-9]+")
AT = "$.openapi"


class _Loader(yaml.SafeLoader):
    """YAML without aliases: an alias bomb would expand to far more than the text's size."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise ComposerError("YAML aliases are not allowed")
        return super().compose_node(parent, index)


def _refuse(message: str, path: str = AT) -> InvalidOpenAPI:
    return InvalidOpenAPI(details=[problem(path, message)])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse(text: str) -> Any:
    if len(text.encode()) > MAX_OPENAPI_BYTES:
        raise _refuse(f"must be at most {MAX_OPENAPI_BYTES} bytes")
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text, parse_constant=_refuse_constant)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader, aliases refused
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise _refuse(f"is neither valid JSON nor valid YAML{where}") from None
    except RecursionError:
        raise _refuse(f"is nested deeper than {MAX_DEPTH} levels") from None


def _plain(node: Any, depth: int = 0) -> Any:
    """YAML's extras made JSON: integer keys (`200:`) and dates become strings."""
    if depth > MAX_DEPTH:
        raise _refuse(f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        plain: dict[str, Any] = {}
        for key, value in node.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise _refuse("has an object key that is not a string")
            plain[str(key)] = _plain(value, depth + 1)
        return plain
    if isinstance(node, list):
        return [_plain(item, depth + 1) for item in node]
    if isinstance(node, datetime.date):
        return node.isoformat()
    return node


def load_document(source: dict[str, Any] | str) -> dict[str, Any]:
    """The document as plain JSON, with an OpenAPI 3.0/3.1 header and a `paths` object."""
    document = _parse(source) if isinstance(source, str) else source
    found = json_problem(document, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)
    if found is not None and isinstance(source, str):
        document = _plain(document)  # YAML's integer keys and dates, before the check again
        found = json_problem(document, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)
    if found is not None:
        loc, message = found
        raise _refuse(message, AT + json_path(loc)[1:])
    if not isinstance(document, dict):
        raise _refuse("must be an OpenAPI document (a JSON object)")
    if len(json.dumps(document, separators=(",", ":")).encode()) > MAX_OPENAPI_BYTES:
        raise _refuse(f"must be at most {MAX_OPENAPI_BYTES} bytes as JSON")
    version = document.get("openapi")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise _refuse("must be OpenAPI 3.0.x or 3.1.x", f"{AT}.openapi")
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise _refuse("must have a `paths` object with at least one path", f"{AT}.paths")
    for path, item in paths.items():
        if not path.startswith("/") or not isinstance(item, dict):
            raise _refuse("each path starts with / and maps to a Path Item object", f"{AT}.paths")
    return document
