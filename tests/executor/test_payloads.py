"""Payloads against owner-written schemas: the checks hold, and no regex can stall the loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agora_executor.payloads import (
    InvalidPayload,
    PayloadChecker,
    ToolSchemaTooComplex,
    UnknownTool,
    _Compiled,
)
from tests.support.factories import schema_bomb

EVIL = "^(a+)+$"  # catastrophic backtracking in Python's re: exponential in the input length
SCHEMA = {
    "type": "object",
    "properties": {"s": {"type": "string", "pattern": EVIL}, "n": {"type": "number"}},
    "patternProperties": {"^(x+)+$": {"type": "integer"}},
    "additionalProperties": False,
    "required": ["s"],
}
CARD = {"tools": [{"name": "t", "input_schema": SCHEMA}]}


def problems(payload: Any) -> list[dict[str, str]] | None:
    try:
        PayloadChecker().check(CARD, "card-1", "t", payload)
    except InvalidPayload as error:
        return list(error.details or [])
    return None


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ({"s": "aaa"}, None),
        ({"s": "aaa", "xx": 3}, None),
        ({"s": "aab"}, ["$.payload.s"]),
        ({"s": "aaa", "xx": "three"}, ["$.payload.xx"]),
        ({"s": "aaa", "other": 1}, ["$.payload"]),
        ({"n": "one"}, ["$.payload", "$.payload.n"]),
    ],
)
def test_the_schema_is_enforced(payload: dict[str, Any], paths: list[str] | None) -> None:
    found = problems(payload)
    assert (sorted(p["path"] for p in found) if found is not None else None) == paths


def test_a_catastrophic_pattern_is_matched_in_linear_time() -> None:
    started = time.perf_counter()
    for payload in ({"s": "a" * 50_000 + "!"}, {"s": "aaa", "x" * 50_000 + "!": 1}):
        assert problems(payload) is not None
    # Python's re needs ~0.3 s for 22 characters here and doubles with each one more.
    assert time.perf_counter() - started < 5.0  # vs. hours with backtracking: a safety check


def test_values_are_never_echoed_and_unknown_tools_are_404() -> None:
    found = problems({"s": "secret-value-123"})
    assert found is not None
    assert "secret-value-123" not in str(found)
    with pytest.raises(UnknownTool):
        PayloadChecker().check(CARD, "card-1", "nope", {})


# --- the quick check agrees with the Python validator ------------------------------------------

PLAIN_SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "spot": {"type": "number", "exclusiveMinimum": 0},
            "n": {"type": "integer", "minimum": -5, "maximum": 2**70},
            "name": {"type": "string", "minLength": 2, "maxLength": 3},
            "flag": {"type": "boolean"},
            "kind": {"enum": ["call", "put", 1, None]},
            "one": {"const": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "pair": {"type": "array", "prefixItems": [{"type": "number"}], "maxItems": 2},
            "nested": {
                "type": "object",
                "properties": {"x": {"type": ["number", "null"]}},
                "required": ["x"],
                "additionalProperties": False,
            },
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "exactly": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "number"}]},
            "never": {"not": {"type": "string"}},
        },
        "required": ["spot"],
        "additionalProperties": {"type": "number"},
        "dependentRequired": {"flag": ["name"]},
        "minProperties": 1,
    },
    {"type": "array", "items": {"type": "integer"}, "contains": {"const": 3}, "minContains": 2},
]
PAYLOADS: list[Any] = [
    {"spot": 1},
    {"spot": 0},
    {"spot": -1.5},
    {"spot": True},
    {"spot": "1"},
    {},
    {"spot": 1, "n": 1.0},
    {"spot": 1, "n": 1.5},
    {"spot": 1, "n": True},
    {"spot": 1, "n": 2**70},
    {"spot": 1, "n": 2**70 + 1},
    {"spot": 1, "n": 10**40},
    {"spot": 1, "name": "ab"},
    {"spot": 1, "name": "a"},
    {"spot": 1, "name": "\U0001f600\U0001f600"},  # two code points (four UTF-16 units)
    {"spot": 1, "name": "\U0001f600\U0001f600\U0001f600\U0001f600"},
    {"spot": 1, "flag": True},
    {"spot": 1, "flag": True, "name": "abc"},
    {"spot": 1, "kind": "put"},
    {"spot": 1, "kind": True},
    {"spot": 1, "kind": 1.0},
    {"spot": 1, "kind": None},
    {"spot": 1, "one": True},
    {"spot": 1, "one": 1.0},
    {"spot": 1, "tags": ["a", "b"]},
    {"spot": 1, "tags": ["a", "a"]},
    {"spot": 1, "pair": [1, "x"]},
    {"spot": 1, "pair": ["x"]},
    {"spot": 1, "pair": [1, 2, 3]},
    {"spot": 1, "nested": {"x": None}},
    {"spot": 1, "nested": {"x": 1, "y": 2}},
    {"spot": 1, "nested": {}},
    {"spot": 1, "either": 1.0},
    {"spot": 1, "either": 1.5},
    {"spot": 1, "exactly": 1},
    {"spot": 1, "exactly": -1},
    {"spot": 1, "never": "s"},
    {"spot": 1, "extra": 2},
    {"spot": 1, "extra": "two"},
    [3, 3],
    [3, 4],
    [3.0, 3, 1],
    [True, 3, 3],
    "not an object",
    None,
]


@pytest.mark.parametrize("schema", PLAIN_SCHEMAS)
def test_the_quick_check_agrees_with_the_python_validator(schema: dict[str, Any]) -> None:
    compiled = _Compiled(schema)
    assert compiled.fast is not None
    for payload in PAYLOADS:
        python_valid = not list(compiled.python.iter_errors(payload))
        assert compiled.accepts_quickly(payload) == python_valid, payload


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^\\d+$"},  # RE2 and Rust differ on Unicode digits
        {"patternProperties": {"^a": {"type": "integer"}}},
        {"type": "string", "format": "email"},
        {"type": "number", "multipleOf": 0.1},  # 0.3 / 0.1 is not an integer in floats
        {"$ref": "http://169.254.169.254/computeMetadata/v1/"},  # never fetched
        {"properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"type": "integer"}}},
        {"propertyNames": {"maxLength": 3}},
    ],
)
def test_dialect_dependent_schemas_are_left_to_the_python_validator(
    schema: dict[str, Any],
) -> None:
    assert _Compiled(schema).fast is None


def test_huge_numbers_are_judged_as_python_judges_them() -> None:
    compiled = _Compiled({"type": "integer", "maximum": 5, "minimum": -(10**500)})
    for number in (10**400, -(10**400), 4, -(10**600)):
        python_valid = not list(compiled.python.iter_errors(number))
        assert compiled.accepts_quickly(number) == python_valid, number


# --- schemas over the budget, stored before it existed -----------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(schema_bomb(16), id="anyOf-bomb"),
        pytest.param(
            {
                "type": "object",
                "$defs": {"a": {"$ref": "#/$defs/a"}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            },
            id="ref-cycle",
        ),
    ],
)
async def test_a_stored_schema_over_the_budget_is_refused_at_once(schema: dict[str, Any]) -> None:
    checker = PayloadChecker()
    bomb_card = {"tools": [{"name": "t", "input_schema": schema}]}
    started = time.perf_counter()
    for _ in range(3):  # the verdict is kept: every call is refused, none validates
        with pytest.raises(ToolSchemaTooComplex) as refused:
            await checker.check_off_loop(bomb_card, "card-bomb", "t", {"x": 1})
        assert refused.value.status_code == 409
        assert refused.value.details and refused.value.details[0]["path"].startswith(
            "$.input_schema"
        )
    assert time.perf_counter() - started < 0.5  # the old code took ~4 s for the bomb alone


async def test_a_costly_payload_is_checked_without_holding_the_loop() -> None:
    items = {"anyOf": [{"allOf": [{"type": "string", "minLength": j} for j in range(28)]}] * 32}
    costly = {
        "tools": [
            {
                "name": "t",
                "input_schema": {
                    "type": "object",
                    "properties": {"xs": {"type": "array", "items": items}},
                },
            }
        ]
    }
    gaps: list[float] = []

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            gaps.append(time.perf_counter() - before)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        with pytest.raises(InvalidPayload):
            await PayloadChecker().check_off_loop(costly, "card-costly", "t", {"xs": [1] * 2000})
    finally:
        took = time.perf_counter() - started
        ticking.cancel()
    # Counted, not timed, so a loaded machine cannot fail it: a check on the loop lets the
    # ticker run at most once; in a worker thread the loop keeps ticking while it runs.
    assert took > 0.05  # costly enough to tell the two apart
    assert len(gaps) >= 3


def test_unique_items_is_not_quadratic() -> None:
    schema = {"type": "object", "properties": {"xs": {"type": "array", "uniqueItems": True}}}
    unique_card = {"tools": [{"name": "t", "input_schema": schema}]}
    many = [{"a": i} for i in range(20_000)]
    started = time.perf_counter()
    PayloadChecker().check(unique_card, "card-u", "t", {"xs": many})
    with pytest.raises(InvalidPayload):
        PayloadChecker().check(unique_card, "card-u", "t", {"xs": [*many, {"a": 1.0}, "x"]})
    with pytest.raises(InvalidPayload):
        PayloadChecker().check(
            unique_card, "card-u", "t", {"xs": [[1, {"b": None}], [1.0, {"b": None}]]}
        )
    PayloadChecker().check(unique_card, "card-u", "t", {"xs": [1, True, "1", None, 0, False]})
    assert time.perf_counter() - started < 2.0  # pairwise comparison took minutes here
