"""MCP names of catalog tools, and back (pure)."""

from __future__ import annotations

import re

import pytest

from agora_tool.mcp_names import (
    FALLBACK_SLUG,
    MAX_NAME,
    MAX_SLUG,
    ToolRef,
    agent_slug,
    mcp_name,
    parse_mcp_name,
)

# MCP's rule for tool names.
MCP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
AGENT_ID = "Xk3v_Q9-abcdEFGH12_-zz"  # what secrets.token_urlsafe(16) gives: `_` and `-` inside


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("QuantFlow", "quantflow"),
        ("QuantFlow 2 — Options & Rates", "quantflow-2-options-rates"),
        ("Café Ünïcode", "cafe-unicode"),
        ("__--__", FALLBACK_SLUG),
        ("日本語", FALLBACK_SLUG),
        ("a" * 40 + " b", "a" * MAX_SLUG),
        ("x" * (MAX_SLUG - 1) + " tail", "x" * (MAX_SLUG - 1)),  # no trailing '-' after the cut
    ],
)
def test_the_slug_is_the_agents_name_made_safe(name: str, slug: str) -> None:
    assert agent_slug(name) == slug
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", agent_slug(name))


def test_a_name_is_slug_underscore_id_dot_tool_and_maps_back() -> None:
    name = mcp_name("QuantFlow", AGENT_ID, "black_scholes")
    assert name == f"quantflow_{AGENT_ID}.black_scholes"
    assert MCP_NAME.fullmatch(name)
    assert parse_mcp_name(name) == ToolRef(AGENT_ID, "black_scholes")


def test_the_same_tool_always_gets_the_same_name_and_others_differ() -> None:
    one = mcp_name("QuantFlow", AGENT_ID, "black_scholes")
    assert one == mcp_name("QuantFlow", AGENT_ID, "black_scholes")
    # Same display name, another agent; same agent, another tool: never the same name.
    assert one != mcp_name("QuantFlow", AGENT_ID[:-1] + "y", "black_scholes")
    assert one != mcp_name("QuantFlow", AGENT_ID, "black-scholes")


@pytest.mark.parametrize("tool", ["a", "T" * 64, "mixed_Case-9"])
@pytest.mark.parametrize("agent_id", ["a", "_", "-", "A" * 64, AGENT_ID])
def test_every_id_and_tool_name_that_can_fit_does_and_round_trips(agent_id: str, tool: str) -> None:
    name = mcp_name("A very long agent name " * 5, agent_id, tool)
    if len(agent_id) + len(tool) + 2 > MAX_NAME:  # 64 + 64: no name of ours can hold both
        assert name is None
        return
    assert name is not None
    assert len(name) <= MAX_NAME
    assert MCP_NAME.fullmatch(name)
    assert parse_mcp_name(name) == ToolRef(agent_id, tool)


def test_the_slug_gives_way_to_fit_128_characters() -> None:
    name = mcp_name("QuantFlow", "A" * 64, "t" * 62)
    assert name == f"_{'A' * 64}.{'t' * 62}"  # no room left for a slug
    assert mcp_name("QuantFlow", "A" * 64, "t" * 61) == f"q_{'A' * 64}.{'t' * 61}"
    assert mcp_name("QuantFlow", "A" * 64, "t" * 64) is None  # 130 characters: never listed


@pytest.mark.parametrize(
    "name",
    [
        "",
        "black_scholes",  # no agent part
        "quantflow.black_scholes",  # no `_` before the id
        "QuantFlow_abc.tool",  # the slug is lower-case
        "quantflow_abc.tool.more",
        "quantflow_abc.9tool",  # a tool name starts with a letter
        "quantflow_a b.tool",
        "quantflow_abc.",
        "quantflow_.tool",
        "q_" + "A" * 65 + ".tool",  # an id is at most 64 characters
        "q" * 110 + "_" + "A" * 20 + ".tool",  # past 128 characters
    ],
)
def test_anything_else_is_not_one_of_our_names(name: str) -> None:
    assert parse_mcp_name(name) is None
