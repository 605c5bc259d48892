"""The executor's answers as MCP tool results, and catalog entries as MCP tools (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agora_tool.mcp_calls import EXECUTION_ID, answer_of
from agora_tool.mcp_server import mcp_tool
from agora_tool.models import ToolView


def answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def envelope(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "trace_id": "t", **extra}}


def test_a_succeeded_execution_is_structured_content_and_its_json() -> None:
    result = answer_of(
        answer(200, {"execution_id": "e1", "status": "succeeded", "result": {"price": 10.45}})
    )
    assert result.is_error is False
    assert result.structured_content == {"price": 10.45}
    assert json.loads(result.content[0].text) == {"price": 10.45}
    assert result.meta == {EXECUTION_ID: "e1"}


def test_a_result_that_is_not_an_object_is_wrapped_in_one() -> None:
    result = answer_of(answer(200, {"execution_id": "e", "status": "succeeded", "result": 3}))
    assert result.structured_content == {"result": 3}


def test_the_tools_own_failure_is_a_tool_error() -> None:
    failed = {
        "execution_id": "e",
        "status": "failed",
        "error": {"code": "NEGATIVE_RATE", "message": "rate must be positive"},
    }
    result = answer_of(answer(200, failed))
    assert result.is_error is True
    assert result.structured_content is None
    assert result.content[0].text == "rate must be positive (NEGATIVE_RATE)"


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 429])
def test_a_refusal_is_a_tool_error_with_its_message_code_and_paths(status: int) -> None:
    details = [{"path": "$.payload.spot", "message": "not a number"}]
    result = answer_of(answer(status, envelope("INVALID_PAYLOAD", "Bad payload", details=details)))
    assert result.is_error is True
    text = result.content[0].text
    assert text.startswith("Bad payload (INVALID_PAYLOAD)")
    assert "$.payload.spot" in text
    assert not text.startswith("Tools cannot be run")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_executor_failure_says_tools_cannot_run_now(status: int) -> None:
    result = answer_of(answer(status, envelope("SERVICE_UNAVAILABLE", "agent down")))
    assert result.is_error is True
    assert (
        result.content[0].text == "Tools cannot be run right now: agent down (SERVICE_UNAVAILABLE)"
    )


def test_an_answer_that_is_not_json_is_a_tool_error() -> None:
    result = answer_of(httpx.Response(502, text="<html>bad gateway</html>"))
    assert result.is_error is True
    assert "502" in result.content[0].text


def view(**overrides: Any) -> ToolView:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "tool_id": "abc.price",
        "name": "price",
        "description": "Prices things",
        "agent_id": "abc",
        "agent_name": "Quant Flow",
        "input_schema": {"type": "object", "properties": {"x": {"type": "number"}}},
        "output_schema": {"type": "object", "properties": {"y": {"type": "number"}}},
        "tags": [],
        "status": "active",
        "current_version": "1.0.0",
        "versions": ["1.0.0"],
        "created_at": now,
        "updated_at": now,
    }
    return ToolView(**(fields | overrides))


def test_a_catalog_entry_is_a_namespaced_mcp_tool_with_its_schemas_and_title() -> None:
    tool = mcp_tool(view())
    assert tool is not None
    assert tool.name == "quant-flow_abc.price"
    assert tool.title == "price (Quant Flow)"
    assert tool.description == "Prices things"
    assert tool.input_schema == view().input_schema
    assert tool.output_schema == view().output_schema
    assert tool.annotations is not None and tool.annotations.title == tool.title
    wire = tool.model_dump(by_alias=True, exclude_none=True)
    assert wire["annotations"] == {"title": "price (Quant Flow)"}  # no hint that is not known
    assert {"inputSchema", "outputSchema"} <= set(wire)


@pytest.mark.parametrize("schema", [{"type": "number"}, {"type": "array"}, None])
def test_an_output_schema_that_is_not_an_object_is_left_out(schema: Any) -> None:
    tool = mcp_tool(view(output_schema=schema))
    assert tool is not None
    assert tool.output_schema is None
