"""The scan's card check: a stored card whose schema is over the budget is a finding."""

from __future__ import annotations

from agora_devstack.agents import local_agent, registration_card
from agora_vetting.scanning import check_stored_card
from tests.support.factories import card, schema_bomb


def test_a_stored_bomb_schema_is_a_high_finding_at_its_spot() -> None:
    stored = card()
    stored["tools"].append(
        {"name": "bomb", "description": "Stored before the budget", "input_schema": schema_bomb(16)}
    )
    parsed, result = check_stored_card(stored)
    assert parsed is not None
    assert result.status == "findings"
    assert {f["severity"] for f in result.findings} == {"high"}
    assert "$.tools[1].input_schema.$defs.a8" in [f["path"] for f in result.findings]


def test_a_stored_ref_cycle_is_a_finding() -> None:
    cycle = {"type": "object", "$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#"}}}
    _, result = check_stored_card(card(tools=[{**card()["tools"][0], "input_schema": cycle}]))
    assert result.status == "findings"
    assert result.findings[0]["path"] == "$.tools[0].input_schema.$defs.a.$ref"


def test_the_platforms_own_cards_stay_clean() -> None:
    for folder in ("quantflow", "genesis"):
        parsed, result = check_stored_card(registration_card(local_agent(folder), folder))
        assert parsed is not None and result.status == "ok", result
