"""Card checks beyond the model's own: JSON Schema validity, references, URL schemes."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from pydantic import ValidationError

from agora_common.errors import ValidationFailed
from agora_common.models import CARD_FIELDS, AgentCard, package_source
from agora_common.schema_budget import assess_schema
from agora_registry.names import normal_name

BODY = "$.body"
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_REF_KEYWORDS = ("$ref", "$dynamicRef")

Problem = dict[str, str]


def validate_card(data: Mapping[str, Any], *, local: bool) -> AgentCard:
    """A full card from a merged dict, or ValidationFailed with JSON paths (PATCH uses this)."""
    try:
        card = AgentCard.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            details=[
                {"path": json_path(BODY, err["loc"]), "message": err["msg"]} for err in exc.errors()
            ]
        ) from None
    check_card(card, local=local)
    return card


def with_normal_name(card: AgentCard, *, local: bool) -> AgentCard:
    """The card with its name in NFKC, checked again: the stored and shown form of the name."""
    name = normal_name(card.name)
    if name == card.name:
        return card
    data = card.model_dump(mode="json", exclude_none=True)
    return validate_card({**data, "name": name}, local=local)


def check_package_source(card: AgentCard, before: str | None, *, packaged: bool) -> None:
    """Only the tool service names a submitted package as a card's source; an owner may keep
    the one their agent has, never point it at another."""
    source = package_source(card)
    if source is None or source == before or packaged:
        return
    raise ValidationFailed(
        details=[
            {
                "path": f"{BODY}.metadata.source",
                "message": "a package source is set by the platform when a tool is submitted",
            }
        ]
    )


def check_patch_fields(patch: Mapping[str, Any]) -> None:
    """A PATCH names at least one card field, and only card fields."""
    if not patch:
        raise ValidationFailed(details=[{"path": BODY, "message": "no card field to change"}])
    unknown = sorted(set(patch) - CARD_FIELDS)
    if unknown:
        raise ValidationFailed(
            details=[
                {"path": f"{BODY}.{name}", "message": "not a card field; it cannot be changed"}
                for name in unknown
            ]
        )


def check_card(card: AgentCard, *, local: bool) -> None:
    """Raise ValidationFailed naming every problem the model alone cannot see."""
    problems = [*_schema_problems(card), *_url_problems(card, local=local)]
    if problems:
        raise ValidationFailed(details=problems)


def json_path(prefix: str, loc: Sequence[int | str]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _schema_problems(card: AgentCard) -> Iterator[Problem]:
    for index, tool in enumerate(card.tools):
        yield from _one_schema_problems(f"{BODY}.tools[{index}].input_schema", tool.input_schema)
        if tool.output_schema is not None:
            path = f"{BODY}.tools[{index}].output_schema"
            yield from _one_schema_problems(path, tool.output_schema)


def _one_schema_problems(path: str, schema: Mapping[str, Any]) -> Iterator[Problem]:
    """An input or output schema: an object schema, within the budget, valid, local refs only."""
    problem = _schema_shape_problem(schema)
    if problem is not None:
        yield {"path": path, "message": problem}
        return
    # The budget comes first: the metaschema check itself recurses through the schema.
    over_budget = assess_schema(schema).problems
    for found in over_budget:
        yield {"path": json_path(path, found.loc), "message": found.message}
    if over_budget:
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        # The metaschema's message quotes the offending value; the path is enough to fix it.
        yield {
            "path": json_path(path, list(exc.path)),
            "message": f"not a valid JSON Schema (draft 2020-12): fails '{exc.validator}'",
        }
        return
    for ref_path in _remote_refs(schema):
        yield {
            "path": json_path(path, ref_path),
            "message": "only local references (starting with #) are allowed",
        }


def _schema_shape_problem(schema: Mapping[str, Any]) -> str | None:
    if schema.get("type") != "object":
        return 'a tool schema must describe an object ("type": "object")'
    if "$schema" in schema and schema["$schema"] != _DRAFT_2020_12:
        return f"$schema must be {_DRAFT_2020_12} when given"
    return None


def _remote_refs(schema: Mapping[str, Any]) -> Iterator[list[int | str]]:
    """Paths of $ref values that leave the document: a later validator could fetch them."""
    stack: list[tuple[Any, list[int | str]]] = [(schema, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key in _REF_KEYWORDS and isinstance(child, str) and not child.startswith("#"):
                    yield [*path, key]
                stack.append((child, [*path, key]))
        elif isinstance(node, list):
            stack.extend((child, [*path, i]) for i, child in enumerate(node))


def _url_problems(card: AgentCard, *, local: bool) -> Iterator[Problem]:
    urls = {
        f"{BODY}.deployment.url": card.deployment.url,
        f"{BODY}.documentation_url": card.documentation_url,
        f"{BODY}.provider.url": card.provider.url if card.provider else None,
    }
    for path, url in urls.items():
        if url is None:
            continue
        if not _allowed_scheme(url, local=local):
            message = (
                "must use https (plain http only for loopback hosts)" if local else "must use https"
            )
            yield {"path": path, "message": message}
        elif not _public_host(urlsplit(url).hostname or "", local=local):
            yield {"path": path, "message": "must name a public host"}


def _allowed_scheme(url: str, *, local: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return local and parts.scheme == "http" and _is_loopback(parts.hostname or "")


# Names that resolve to the platform's own infrastructure (the metadata server among them).
_INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".svc", ".cluster.local")


def _public_host(host: str, *, local: bool) -> bool:
    """A first screen against SSRF at registration: no internal names, no non-public addresses.

    Names are resolved (and re-checked) by whatever connects to them, at connection time; this
    only refuses what is internal on its face. Loopback stays allowed locally, for local agents.
    """
    host = host.lower().rstrip(".")
    if local and _is_loopback(host):
        return True
    if not host or host in ("localhost", "metadata") or host.endswith(_INTERNAL_SUFFIXES):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a DNS name: checked again where it is resolved
    return address.is_global


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
