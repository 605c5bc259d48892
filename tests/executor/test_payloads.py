"""Payloads against owner-written schemas: the checks hold, and no regex can stall the loop."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agora_executor.payloads import InvalidPayload, PayloadChecker, UnknownTool

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
