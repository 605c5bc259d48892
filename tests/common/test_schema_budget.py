"""The schema budget: exponential, cyclic, deep and wide schemas are refused, real ones kept."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agora_common.schema_budget import BUDGET, assess_schema, subschemas
from agora_devstack.agents import local_agent, registration_card
from tests.support.factories import schema_bomb


def nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def chained_refs(count: int) -> dict[str, Any]:
    """`count` properties, each a $ref to one shared definition: cheap, but many refs."""
    return {
        "type": "object",
        "$defs": {"n": {"type": "number"}},
        "properties": {f"p{i}": {"$ref": "#/$defs/n"} for i in range(count)},
    }


def ref_depth(levels: int) -> dict[str, Any]:
    """A chain of single references: shallow as a document, deep once they are followed."""
    defs: dict[str, Any] = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(levels)}
    defs[f"d{levels}"] = {"type": "string"}
    return {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}


def wide(combinator: str, width: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "x": {combinator: [{"type": "string", "minLength": i} for i in range(width)]}
        },
    }


CYCLE = {
    "type": "object",
    "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
    "properties": {"x": {"$ref": "#/$defs/a"}},
}
# A tree of nodes: recursive through `properties`, still unbounded for the validator's stack.
RECURSIVE = {
    "type": "object",
    "$defs": {"node": {"type": "object", "properties": {"children": {"$ref": "#/$defs/node"}}}},
    "properties": {"root": {"$ref": "#/$defs/node"}},
}
ORDINARY = {
    "type": "object",
    "$defs": {
        "leg": {
            "type": "object",
            "properties": {
                "kind": {"enum": ["call", "put"]},
                "strike": {"type": "number", "exclusiveMinimum": 0},
                "side": {"anyOf": [{"const": "buy"}, {"const": "sell"}]},
            },
            "required": ["kind", "strike"],
            "additionalProperties": False,
        }
    },
    "properties": {
        "spot": {"type": "number"},
        "legs": {"type": "array", "items": {"$ref": "#/$defs/leg"}, "maxItems": 8},
        "hedge": {"oneOf": [{"$ref": "#/$defs/leg"}, {"type": "null"}]},
    },
    "required": ["spot", "legs"],
}


def paths(schema: Any) -> list[tuple[str | int, ...]]:
    return [problem.loc for problem in assess_schema(schema).problems]


@pytest.mark.parametrize(
    ("schema", "spot"),
    [
        pytest.param(schema_bomb(14), ("$defs", "a6"), id="anyOf-bomb-14"),
        pytest.param(schema_bomb(16), ("$defs", "a8"), id="anyOf-bomb-16"),
        pytest.param(
            schema_bomb(4, width=8, combinator="oneOf"), ("$defs", "a1"), id="oneOf-bomb-8^4"
        ),
        pytest.param(
            schema_bomb(4, width=8, combinator="allOf"), ("$defs", "a1"), id="allOf-bomb-8^4"
        ),
        pytest.param(CYCLE, ("$defs", "b", "anyOf", 0, "$ref"), id="ref-cycle"),
        pytest.param({"type": "object", "$ref": "#"}, ("$ref",), id="self-reference"),
        pytest.param(
            RECURSIVE, ("$defs", "node", "properties", "children", "$ref"), id="recursive"
        ),
        pytest.param(nested(40), ("properties", "x") * 16, id="deep-document"),
        pytest.param(ref_depth(40), ("$defs", "d29"), id="deep-through-refs"),
        pytest.param(wide("anyOf", 33), ("properties", "x", "anyOf"), id="wide-anyOf"),
        pytest.param(wide("oneOf", 33), ("properties", "x", "oneOf"), id="wide-oneOf"),
        pytest.param(wide("allOf", 33), ("properties", "x", "allOf"), id="wide-allOf"),
        pytest.param(chained_refs(65), ("properties", "p64", "$ref"), id="many-refs"),
        pytest.param(
            {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}},
            ("properties", "x", "$ref"),
            id="dangling-ref",
        ),
        pytest.param(
            {"type": "object", "properties": {"x": {"$ref": "https://evil.example/s.json"}}},
            ("properties", "x", "$ref"),
            id="remote-ref",
        ),
        pytest.param(
            {"type": "object", "properties": {"x": {"enum": list(range(20_000))}}},
            ("properties", "x"),
            id="huge-enum",
        ),
    ],
)
def test_over_budget_schemas_are_refused_at_the_offending_spot(
    schema: dict[str, Any], spot: tuple[str | int, ...]
) -> None:
    assert spot in paths(schema)


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(ORDINARY, id="ordinary-with-refs"),
        pytest.param(schema_bomb(8, width=2)["$defs"]["a8"] | {"type": "object"}, id="leaf"),
        pytest.param(schema_bomb(6), id="small-chain-2^6"),
        pytest.param(nested(15), id="nested-15"),
        pytest.param(ref_depth(20), id="refs-20-deep"),
        pytest.param(wide("anyOf", 32), id="anyOf-32"),
        pytest.param(chained_refs(64), id="refs-64"),
        pytest.param(
            {"type": "object", "properties": {"x": {"enum": list(range(256))}}}, id="enum"
        ),
    ],
)
def test_ordinary_schemas_fit(schema: dict[str, Any]) -> None:
    assessment = assess_schema(schema)
    assert assessment.within_budget, assessment.problems
    assert 1 <= assessment.evaluations <= BUDGET.max_evaluations


@pytest.mark.parametrize("folder", ["quantflow", "genesis"])
def test_the_platforms_own_agents_fit(folder: str) -> None:
    for tool in registration_card(local_agent(folder), folder)["tools"]:
        assessment = assess_schema(tool["input_schema"])
        assert assessment.within_budget, (tool["name"], assessment.problems)


def test_the_cost_counts_evaluations_over_the_reference_graph() -> None:
    # a<i> costs 1 + 2 * (1 + cost(a<i+1>)), the leaf 1: 2**(n+1) * 2 - 3 in all, plus x and root.
    assert assess_schema(schema_bomb(6)).evaluations == 1 + 1 + (2 ** (6 + 2) - 3)
    assert assess_schema({"type": "object"}).evaluations == 1


def test_the_check_is_fast_and_recursion_free_on_hostile_input() -> None:
    long_chain = ref_depth(5_000)  # deeper than Python's recursion limit once followed
    broken: dict[str, Any] = {"type": "object", "anyOf": 3, "properties": [1], "$ref": 7}
    started = time.perf_counter()
    assert paths(long_chain)
    assert paths(schema_bomb(60))
    assert assess_schema(broken).within_budget  # not a schema: the metaschema check says so
    assert time.perf_counter() - started < 1.0


def test_subschemas_skip_what_is_not_applied() -> None:
    schema = {"$defs": {"a": {}}, "const": {"$ref": "#"}, "not": {}, "properties": {"x": True}}
    assert [loc for loc, _ in subschemas(schema, ())] == [("not",), ("properties", "x")]
