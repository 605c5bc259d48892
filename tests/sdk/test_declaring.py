"""Declaring an agent: a card the registry would refuse fails at import, with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import RootModel

from agora_agent_sdk import Agent, AgentConfig, Context, ToolError
from tests.sdk.factories import EchoInput, make_agent


def _agent(**overrides: Any) -> Agent:
    fields: dict[str, Any] = {"name": "Demo", "description": "A demo.", "version": "1.0.0"}
    return Agent(**(fields | overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": " Demo"},
        {"name": "Demo!"},
        {"name": "x" * 65},
        {"description": ""},
        {"description": "bad \x00 byte"},
        {"version": "1.0"},
        {"version": "v1.0.0"},
        {"tags": ["Finance"]},
        {"tags": ["a", "a"]},
        {"tags": [f"t{i}" for i in range(17)]},
        {"provider_keys": ["OpenAI"]},
    ],
)
def test_card_fields_the_registry_refuses_fail_at_declaration(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        _agent(**overrides)


@pytest.mark.parametrize("name", ["1st", "has space", "dot.ted", "x" * 65, ""])
def test_tool_names_follow_the_card_rule(name: str) -> None:
    agent = _agent()
    with pytest.raises(ValueError, match="tool name"):

        @agent.tool(description="d", name=name or None)
        def _(payload: EchoInput) -> None: ...


def test_tool_names_are_unique_case_insensitively() -> None:
    agent = _agent()

    @agent.tool(description="d", name="Search")
    def one(payload: EchoInput) -> None: ...

    with pytest.raises(ValueError, match="unique"):

        @agent.tool(description="d", name="search")
        def two(payload: EchoInput) -> None: ...


def test_the_decorator_returns_the_function_unchanged() -> None:
    agent = _agent()

    def plain(payload: EchoInput, ctx: Context) -> str:
        return payload.text + ctx.execution_id

    assert agent.tool(description="d")(plain) is plain
    assert plain(EchoInput(text="a"), Context("b")) == "ab"


class Listing(RootModel[list[int]]):
    pass


def _no_model(text: str) -> None: ...


def _extra(payload: EchoInput, other: int) -> None: ...


def _listing(payload: Listing) -> None: ...


def _positional(payload: EchoInput, /) -> None: ...


def _generator(payload: EchoInput) -> Any:
    yield payload


@pytest.mark.parametrize("func", [_no_model, _extra, _listing, _positional, _generator])
def test_tool_signatures_the_sdk_cannot_call_fail_at_declaration(func: Any) -> None:
    with pytest.raises(TypeError):
        _agent().tool(description="d", name="tool")(func)


def test_an_agent_needs_a_tool() -> None:
    with pytest.raises(ValueError, match="no tools"):
        _agent().app(AgentConfig())


def test_tool_error_codes_are_machine_readable() -> None:
    with pytest.raises(ValueError, match="uppercase"):
        ToolError("not a code", "message")
    assert ToolError("OK_CODE", "m" * 5000).message == "m" * 1000


def test_a_context_never_shows_its_keys() -> None:
    ctx = Context("exec-1", "u1", {"openai": "sk-hidden"})
    assert "sk-hidden" not in repr(ctx)
    assert ctx.provider_key("openai") == "sk-hidden"
    with pytest.raises(ToolError) as caught:
        ctx.provider_key("anthropic")
    assert caught.value.code == "MISSING_PROVIDER_KEY"


def test_config_reads_the_environment() -> None:
    config = AgentConfig.from_env(
        {
            "PORT": "9000",
            "AGORA_AGENT_HASH_ID": "abc_DEF-1",
            "AGORA_AGENT_SECRET": "0123456789abcdef",
            "AGORA_AGENT_PUBLIC_URL": "https://a.example.com/",
            "AGORA_AGENT_HOST": "127.0.0.1",
        }
    )
    assert (config.port, config.host, config.public_url) == (
        9000,
        "127.0.0.1",
        "https://a.example.com",
    )
    assert config.credentials() == ("abc_DEF-1", "0123456789abcdef")
    assert "0123456789abcdef" not in repr(config)
    defaults = AgentConfig.from_env({})
    assert (defaults.port, defaults.host, defaults.credentials()) == (8080, "0.0.0.0", None)  # noqa: S104


@pytest.mark.parametrize(
    "env",
    [
        {"PORT": "http"},
        {"PORT": "70000"},
        {"AGORA_AGENT_HASH_ID": "has space"},
        {"AGORA_AGENT_PUBLIC_URL": "ftp://a.example.com"},
        {"AGORA_AGENT_PUBLIC_URL": "https://user:pw@a.example.com"},
        {"AGORA_AGENT_PUBLIC_URL": "a.example.com"},
    ],
)
def test_bad_settings_fail_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"."):
        AgentConfig.from_env(env)


def test_the_demo_agent_declares_every_tool() -> None:
    assert list(make_agent().tools) == ["echo", "whoami", "refuse", "crash", "not_a_number"]
