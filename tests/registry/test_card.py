"""The card on its own: URL policy by mode, the A2A import, and the indexes the queries need."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agora_common.errors import ValidationFailed
from agora_common.models import AgentCard, AgentStatus, canonical_card_json, card_from_a2a
from agora_registry.card_rules import check_card
from agora_registry.repository import prefix_end
from agora_registry.search import SearchParams, query_for, scope_for
from tests.registry.conftest import user
from tests.support.factories import card

INDEXES = Path(__file__).resolve().parents[2] / "firestore.indexes.json"


def _card(**overrides: Any) -> AgentCard:
    return AgentCard.model_validate(card(**overrides))


def _paths(error: ValidationFailed) -> list[str]:
    return [str(detail["path"]) for detail in error.details or []]


def test_the_issues_minimal_card_is_accepted_in_both_modes() -> None:
    minimal = _card()
    check_card(minimal, local=False)
    check_card(minimal, local=True)


@pytest.mark.parametrize(
    "overrides",
    [
        {"deployment": {"url": "http://127.0.0.1:8000"}},
        {"deployment": {"url": "http://localhost:8000"}},
        {"deployment": {"url": "http://quantflow.example.com"}},
        {"documentation_url": "http://docs.example.com"},
        {"provider": {"organization": "Quant Inc", "url": "http://quant.example.com"}},
    ],
)
def test_production_mode_accepts_https_only(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_card(_card(**overrides), local=False)
    assert raised.value.details == [
        {"path": raised.value.details[0]["path"], "message": "must use https"}
    ]


def test_local_mode_accepts_plain_http_for_loopback_only() -> None:
    check_card(_card(deployment={"url": "http://127.0.0.2:8000"}), local=True)
    with pytest.raises(ValidationFailed) as raised:
        check_card(_card(deployment={"url": "http://10.0.0.1:8000"}), local=True)
    assert _paths(raised.value) == ["$.body.deployment.url"]


def test_every_problem_is_reported_at_once() -> None:
    tools = [
        {"name": "a", "description": "x", "input_schema": {"type": "object", "minLength": -1}},
        {"name": "b", "description": "x", "input_schema": {"type": "string"}},
    ]
    with pytest.raises(ValidationFailed) as raised:
        check_card(_card(tools=tools, deployment={"url": "http://q.example.com"}), local=False)
    assert _paths(raised.value) == [
        "$.body.tools[0].input_schema.minLength",
        "$.body.tools[1].input_schema",
        "$.body.deployment.url",
    ]


def test_canonical_json_is_stable_whatever_the_key_order() -> None:
    body = card(tags=["b", "a"])
    reordered = json.loads(json.dumps(body, sort_keys=True))
    assert canonical_card_json(_card(**body)) == canonical_card_json(
        AgentCard.model_validate(reordered)
    )


A2A_CARD: dict[str, Any] = {
    "name": "Currency Agent",
    "description": "Converts currencies",
    "url": "https://currency.example.com/a2a",
    "version": "1.2.0",
    "protocolVersion": "0.3.0",
    "provider": {"organization": "Example Corp", "url": "https://example.com"},
    "documentationUrl": "https://example.com/docs",
    "capabilities": {"streaming": True, "pushNotifications": False},
    "defaultInputModes": ["text"],
    "defaultOutputModes": ["text"],
    "skills": [
        {
            "id": "convert",
            "name": "Convert",
            "description": "Convert an amount",
            "tags": ["Finance", "fx"],
            "examples": ["100 USD in EUR"],
        },
        {"id": "rates.today", "name": "Rates", "description": "Today's rates", "tags": ["fx"]},
    ],
}


def test_an_a2a_card_is_imported() -> None:
    imported = card_from_a2a(A2A_CARD)
    assert imported.name == "Currency Agent"
    assert imported.version == "1.2.0"
    assert imported.deployment.url == "https://currency.example.com/a2a"
    assert [t.name for t in imported.tools] == ["convert", "rates_today"]
    assert all(t.input_schema == {"type": "object"} for t in imported.tools)
    assert imported.tags == ["finance", "fx"]
    assert imported.provider is not None
    assert imported.provider.organization == "Example Corp"
    assert imported.capabilities.streaming is True
    assert imported.documentation_url == "https://example.com/docs"
    assert imported.metadata == {
        "a2a": {
            "protocolVersion": "0.3.0",
            "defaultInputModes": ["text"],
            "defaultOutputModes": ["text"],
        }
    }
    check_card(imported, local=False)


def test_an_incomplete_a2a_card_fails_validation() -> None:
    with pytest.raises(ValidationError):
        card_from_a2a({**A2A_CARD, "version": "latest"})
    with pytest.raises(ValidationError):
        card_from_a2a({**A2A_CARD, "skills": []})


def _declared_indexes() -> set[tuple[tuple[str, str], ...]]:
    document = json.loads(INDEXES.read_text())
    return {
        tuple((f["fieldPath"], f.get("order") or f["arrayConfig"]) for f in index["fields"])
        for index in document["indexes"]
        if index["collectionGroup"] == "agents"
    }


def test_every_search_query_has_its_composite_index() -> None:
    declared = _declared_indexes()
    viewers = [user(), user(admin=True)]
    statuses: list[AgentStatus | None] = [None, *AgentStatus]
    needed = set()
    for viewer, owner_me, status, tool, tag, q in itertools.product(
        viewers, [False, True], statuses, [None, "t"], [None, "g"], [None, "qu"]
    ):
        params = SearchParams(q=q, tool=tool, tag=tag, status=status, owner_me=owner_me)
        if not owner_me and status not in (None, AgentStatus.ACTIVE) and not viewer.admin:
            continue  # refused before any query
        needed.add(query_for(scope_for(viewer, params), params, after="x").index_fields())
    assert needed <= declared, sorted(needed - declared)
    assert declared <= needed, "an index no query uses"


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("abc", "abd"),
        ("a\uffff", "a\U00010000"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("x\ud7ff", "x\ue000"),
    ],
)
def test_prefix_end_is_the_next_string_in_code_point_order(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/computeMetadata/v1/",
        "https://metadata.google.internal/",
        "https://10.0.0.5/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://localhost/",
        "https://agent.cluster.local/",
    ],
)
def test_deployment_urls_must_name_a_public_host(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_card(AgentCard.model_validate(card(deployment={"url": url})), local=False)
    assert caught.value.details == [
        {"path": "$.body.deployment.url", "message": "must name a public host"}
    ]


def test_loopback_stays_allowed_for_local_agents() -> None:
    check_card(
        AgentCard.model_validate(card(deployment={"url": "http://127.0.0.1:9000"})), local=True
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {"provider_keys": ["../victim-uid/openai"]},  # would address another user's key
        {"provider_keys": ["openai", "openai"]},
        {"provider_keys": "openai"},
        {"provider_keys": ["OpenAI"]},
        {"source": "../../etc"},
        {"source": "/abs/path"},
        {"timeout_s": 0},
        {"timeout_s": 3600},
        {"timeout_s": True},
    ],
)
def test_metadata_the_platform_reads_is_checked(metadata: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AgentCard.model_validate(card(metadata=metadata))


def test_well_formed_platform_metadata_is_accepted() -> None:
    metadata = {"provider_keys": ["openai", "groq"], "source": "agents/quantflow", "timeout_s": 5}
    assert AgentCard.model_validate(card(metadata={**metadata, "anything": 1})).metadata
