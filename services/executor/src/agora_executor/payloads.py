"""A tool's payload against the input_schema its card declares: 400 with JSON paths."""

from __future__ import annotations

import asyncio
from itertools import islice
from typing import Any

import jsonschema_rs
import re2  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from agora_common.cache import ExpiringCache
from agora_common.errors import BadRequest, Conflict, NotFound
from agora_common.schema_budget import assess_schema

MAX_PROBLEMS = 20
# Payload values times the schema's worst-case evaluations per value: more than this is
# validated in a worker thread, so that no payload holds the event loop for long.
INLINE_WORK = 20_000


class UnknownTool(NotFound):
    code, message = "UNKNOWN_TOOL", "The agent has no such tool"


class InvalidPayload(BadRequest):
    code, message = "INVALID_PAYLOAD", "The payload does not match the tool's input schema"


class ToolSchemaTooComplex(Conflict):
    """The agent's stored schema is over the budget: the caller's request is not at fault."""

    code, message = "TOOL_SCHEMA_TOO_COMPLEX", "The tool's input schema is too complex to check"


# The schema's regular expressions come from agent owners and run on every payload: Python's
# backtracking `re` (jsonschema's default) can be made to take exponential time. RE2 cannot.
_PATTERNS: ExpiringCache[Any] = ExpiringCache(4096)


def _compiled(pattern: str) -> Any:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = re2.compile(pattern)
        _PATTERNS.put(pattern, compiled, float("inf"))
    return compiled


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = _compiled(pattern).search(instance)
    except re2.error:
        yield ValidationError("uses a pattern this platform does not support")
        return
    if not matched:
        yield ValidationError("does not match the schema's pattern")


def _matches_a_pattern(name: str, patterns: Any) -> bool:
    try:
        return any(_compiled(p).search(name) for p in patterns)
    except re2.error:
        return False


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _matches_a_pattern(name, [pattern]):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [n for n in instance if n not in known and not _matches_a_pattern(n, patterns)]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        yield ValidationError(
            "unexpected properties are not allowed", validator="additionalProperties"
        )


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal exactly when JSON Schema calls the values equal (1 == 1.0)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, dict):
        return ("object", frozenset((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_frozen(v) for v in value))
    return ("value", value)


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    # jsonschema compares objects pairwise (quadratic): a payload of many objects took minutes.
    if not (unique and validator.is_type(instance, "array")):
        return
    if len({_frozen(item) for item in instance}) < len(instance):
        yield ValidationError("has non-unique elements")


Validator = validators.extend(
    Draft202012Validator,
    {
        "uniqueItems": _unique_items,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


# Keywords whose meaning depends on a regular-expression dialect (RE2 here), on formats or on
# other documents (any `$` keyword), and `multipleOf` (implementations divide floats
# differently). A schema using any of them is checked by the Python validator alone; any other
# is checked first by jsonschema-rs, whose core vocabulary is the same standard.
_PYTHON_ONLY = frozenset({"pattern", "patternProperties", "format", "propertyNames", "multipleOf"})


def _fast_validator(schema: Any) -> Any | None:
    """A jsonschema-rs validator for a schema that uses only the plain vocabulary, else None."""
    if _uses_python_only(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(
            schema,
            validate_formats=False,
            pattern_options=jsonschema_rs.RegexOptions(),
            offline=True,  # never fetch a `$ref` (an owner's URL would be an SSRF)
        )
    except Exception:  # anything it cannot build, the Python validator still can
        return None


def _uses_python_only(schema: Any) -> bool:
    if isinstance(schema, dict):
        return any(
            key in _PYTHON_ONLY or key.startswith("$") or _uses_python_only(value)
            for key, value in schema.items()
        )
    if isinstance(schema, list):
        return any(_uses_python_only(item) for item in schema)
    return False


class _Compiled:
    __slots__ = ("evaluations", "fast", "python")

    def __init__(self, schema: Any, evaluations: int | None = None) -> None:
        self.python = Validator(schema)
        self.fast = _fast_validator(schema)
        # The worst case per payload value, from the budget.
        self.evaluations = max(
            1, assess_schema(schema).evaluations if evaluations is None else evaluations
        )

    def accepts_quickly(self, payload: Any) -> bool:
        """True only when jsonschema-rs finds the payload valid; every doubt goes to Python."""
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(payload))
        except Exception:  # e.g. a number it cannot represent
            return False


class PayloadChecker:
    """Validators compiled once per (card digest, tool) and reused.

    A payload jsonschema-rs finds valid is accepted at once; any other is checked by the
    Python validator, whose verdict decides and whose errors (with JSON paths) are answered.
    """

    def __init__(self) -> None:
        # Each (card, tool) once: its validators, or the budget's refusal of its schema.
        self._validators: ExpiringCache[_Compiled | _Refused] = ExpiringCache(2048)

    def check(self, card: dict[str, Any], card_key: str, tool_name: str, payload: Any) -> None:
        """Check here and now, whatever the payload's size (see `check_off_loop`)."""
        _judge(self._validator(card, card_key, tool_name), payload)

    async def check_off_loop(
        self, card: dict[str, Any], card_key: str, tool_name: str, payload: Any
    ) -> None:
        """The same check; a payload that could cost much is checked in a worker thread."""
        compiled = self._validator(card, card_key, tool_name)
        values = _values_up_to(payload, INLINE_WORK // compiled.evaluations + 1)
        if values * compiled.evaluations > INLINE_WORK:
            await asyncio.to_thread(_judge, compiled, payload)
        else:
            _judge(compiled, payload)

    def _validator(self, card: dict[str, Any], card_key: str, tool_name: str) -> _Compiled:
        key = f"{card_key}\x00{tool_name}"
        compiled = self._validators.get(key)
        if compiled is None:
            tool = next((t for t in card.get("tools", []) if t.get("name") == tool_name), None)
            if tool is None:
                raise UnknownTool(f"The agent has no tool named {tool_name!r}")
            compiled = _compile(tool["input_schema"])
            self._validators.put(key, compiled, float("inf"))
        if isinstance(compiled, _Refused):
            raise ToolSchemaTooComplex(details=compiled.details)
        return compiled


class _Refused:
    """The budget's verdict on a schema stored before it existed: never validated against."""

    __slots__ = ("details",)

    def __init__(self, details: list[dict[str, str]]) -> None:
        self.details = details


def _compile(schema: Any) -> _Compiled | _Refused:
    """Validators for a schema within the budget, else the refusal to answer every time."""
    assessment = assess_schema(schema)
    if not assessment.within_budget:
        return _Refused(
            [
                {"path": _path(problem.loc, "$.input_schema"), "message": problem.message}
                for problem in assessment.problems[:MAX_PROBLEMS]
            ]
        )
    return _Compiled(schema, assessment.evaluations)


def _judge(compiled: _Compiled, payload: Any) -> None:
    if compiled.accepts_quickly(payload):
        return
    # Errors come lazily: the first few are enough to answer, and the rest could cost a lot.
    found = islice(compiled.python.iter_errors(payload), MAX_PROBLEMS)
    problems = sorted(found, key=lambda e: list(e.absolute_path))
    if problems:
        raise InvalidPayload(
            details=[
                {"path": _path(error.absolute_path), "message": _message(error)}
                for error in problems
            ]
        )


def _values_up_to(payload: Any, limit: int) -> int:
    """How many JSON values the payload holds, counting no further than `limit`."""
    count, stack = 0, [payload]
    while stack and count < limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _path(parts: Any, path: str = "$.payload") -> str:
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: Any) -> str:
    """What failed, without echoing the value that failed (it may be a secret)."""
    validator = error.validator
    if validator == "required":
        return "a required property is missing"
    if validator == "additionalProperties":
        return "unexpected properties are not allowed"
    if validator == "type":
        return f"must be of type {error.validator_value}"
    return f"fails the schema's {validator!r} rule"
