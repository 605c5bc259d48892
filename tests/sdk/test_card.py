"""The generated card and health answer: what the registry accepts, from the declared tools."""

from __future__ import annotations

import httpx

from agora_agent_sdk import Agent
from agora_common.models import AgentCard
from agora_registry.card_rules import validate_card
from tests.sdk.factories import EchoInput, EchoResult, make_agent, running

TOOLS = ["echo", "whoami", "refuse", "crash", "not_a_number"]


def test_health_names_the_agent_and_its_tools_without_auth(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "name": "Demo Agent",
        "version": "1.2.3",
        "tools": TOOLS,
    }


def test_the_card_is_a_valid_agent_card(client: httpx.Client) -> None:
    response = client.get("/.well-known/agent-card.json")
    assert response.status_code == 200
    card = response.json()
    # The registry's own acceptance: the model, then JSON Schema and URL rules (loopback: local).
    AgentCard.model_validate(card)
    validate_card(card, local=True)
    assert card["deployment"] == {"url": str(client.base_url).rstrip("/")}
    assert [t["name"] for t in card["tools"]] == TOOLS
    echo = card["tools"][0]
    assert echo == {
        "name": "echo",
        "description": "Echo the text back",
        "input_schema": EchoInput.model_json_schema(),
        # A returned model that describes an object is the tool's MCP outputSchema.
        "output_schema": EchoResult.model_json_schema(),
    }
    assert "$defs" in echo["input_schema"], "nested models travel as $defs/$ref"
    assert card["metadata"] == {"provider_keys": ["openai"]}
    assert card["tags"] == ["demo", "test"]


def test_the_public_url_wins_over_the_request() -> None:
    with running(public_url="https://demo.agents.example.com/") as http:
        card = http.get("/.well-known/agent-card.json").json()
    assert card["deployment"] == {"url": "https://demo.agents.example.com"}
    validate_card(card, local=False)


def test_an_agent_without_provider_keys_has_no_metadata() -> None:
    card = make_agent(provider_keys=()).card("https://demo.example.com")
    assert "metadata" not in card
    AgentCard.model_validate(card)


def test_the_card_needs_no_credentials() -> None:
    agent: Agent = make_agent()
    with running(agent, secret=None, hash_id=None) as http:
        assert http.get("/.well-known/agent-card.json").status_code == 200
