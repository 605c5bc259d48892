"""GenerateRequest: what it accepts, and the coded 422 of everything it refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from agora_common.errors import ValidationFailed, add_exception_handlers
from agora_tool.factory import GenerateRequest, InvalidSchema, ToolKind
from tests.tool.factory_support import CONTACT_INPUT, CONTACT_OUTPUT, PETS_OPENAPI

BASE: dict[str, Any] = {
    "name": "Meeting Booker",
    "description": "Books meetings.",
    "kind": "python",
    "input_schema": CONTACT_INPUT,
    "output_schema": CONTACT_OUTPUT,
}


def refusal(**overrides: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        GenerateRequest.model_validate({**BASE, **overrides})
    return refused.value


def test_a_python_request_reads_with_its_defaults() -> None:
    request = GenerateRequest.model_validate(BASE)
    assert request.kind is ToolKind.PYTHON
    assert request.version == "1.0.0"
    assert request.tags == []
    with pytest.raises(ValueError, match="no API"):
        _ = request.api


@pytest.mark.parametrize("name", ["Meeting Booker", "a", "X1", "snake_case-name 2", "9 Lives"])
def test_names_that_make_a_package(name: str) -> None:
    assert GenerateRequest.model_validate({**BASE, "name": name}).name == name


@pytest.mark.parametrize(
    "name",
    ["", " lead", "trail ", "double  space", "Météo", "-dash", "tab\there", "x" * 65, "a.b"],
)
def test_names_that_do_not(name: str) -> None:
    with pytest.raises(ValidationError):
        GenerateRequest.model_validate({**BASE, "name": name})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "x" * 2001),
        ("description", "hidden \u202e direction"),
        ("description", "a bell \x07"),
        ("version", "1.0"),
        ("version", "v1.0.0"),
        ("tags", ["Upper"]),
        ("tags", ["same", "same"]),
        ("tags", [f"t{i}" for i in range(11)]),
        ("kind", "rust"),
        ("model", "bad model name"),
        ("unknown_field", 1),
    ],
)
def test_fields_of_the_wrong_shape_are_pydantic_errors(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        GenerateRequest.model_validate({**BASE, field: value})


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (
            {"type": "object", "properties": {"x": {"type": "strin"}}},
            "$.input_schema.properties.x.type",
        ),
        ({"type": "object", "properties": {"x": {"minLength": -1}}}, "$.input_schema"),
        ({"type": "array", "items": {"type": "string"}}, "$.input_schema.type"),
        ({"properties": {"x": {"type": "string"}}}, "$.input_schema.type"),
        (
            {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#"},
            "$.input_schema.$schema",
        ),
        ({"type": "object", "anyOf": [{"required": ["a"]}]}, "$.input_schema.anyOf"),
        (
            {"type": "object", "properties": {"x": {"$ref": "https://evil.example/s.json"}}},
            "$.input_schema.properties.x.$ref",
        ),
        (
            {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/a"}},
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
            },
            "$.input_schema",
        ),
        ({"type": "object", "properties": {"x": {"maximum": float("nan")}}}, "$.input_schema"),
    ],
)
def test_an_unusable_schema_is_invalid_schema_at_its_path(schema: Any, path: str) -> None:
    refused = refusal(input_schema=schema)
    assert isinstance(refused, InvalidSchema)
    assert refused.status_code == 422
    assert refused.code == "INVALID_SCHEMA"
    assert refused.details is not None
    assert refused.details[0]["path"].startswith(path)


def test_a_schema_deeper_than_the_budget_is_refused() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"x": deep}}
    refused = refusal(output_schema=deep)
    assert refused.code == "INVALID_SCHEMA"
    assert refused.details is not None
    assert refused.details[0]["path"].startswith("$.output_schema.properties.x")
    assert "deeper" in refused.details[0]["message"]


def test_a_schema_whose_cost_explodes_is_refused() -> None:
    defs = {f"l{i}": {"anyOf": [{"$ref": f"#/$defs/l{i + 1}"}] * 4} for i in range(6)}
    defs["l6"] = {"type": "string"}  # 4**6 evaluations of it for one value
    schema = {"type": "object", "properties": {"x": {"$ref": "#/$defs/l0"}}, "$defs": defs}
    refused = refusal(input_schema=schema)
    assert refused.code == "INVALID_SCHEMA"
    assert refused.details is not None
    assert "evaluations" in refused.details[0]["message"]


@pytest.mark.parametrize(
    ("overrides", "paths"),
    [
        ({"input_schema": None}, ["$.input_schema"]),
        ({"input_schema": None, "output_schema": None}, ["$.input_schema", "$.output_schema"]),
        ({"openapi": PETS_OPENAPI}, ["$.openapi"]),
        ({"provider": "openai"}, ["$.provider"]),
        ({"kind": "llm"}, ["$.provider", "$.model"]),
        ({"kind": "llm", "provider": "acme", "model": "m1"}, ["$.provider"]),
        (
            {"kind": "http", "input_schema": None, "output_schema": None},
            ["$.openapi", "$.operation_ids"],
        ),
        ({"kind": "http"}, ["$.input_schema", "$.output_schema"]),
    ],
)
def test_fields_that_do_not_fit_the_kind(overrides: dict[str, Any], paths: list[str]) -> None:
    refused = refusal(**overrides)
    assert refused.code == "VALIDATION_FAILED"
    assert refused.details is not None
    assert [d["path"] for d in refused.details] == paths


def test_an_http_request_derives_its_api_when_read() -> None:
    request = GenerateRequest.model_validate(
        {
            "name": "Pets",
            "description": "Pets.",
            "kind": "http",
            "openapi": PETS_OPENAPI,
            "operation_ids": ["listPets"],
            "base_url": "https://staging.pets.example.com/v2/",
        }
    )
    assert request.api.base_url == "https://staging.pets.example.com/v2"
    assert [op.tool_name for op in request.api.operations] == ["list_pets"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"operation_ids": []},
        {"operation_ids": [f"op{i}" for i in range(21)]},
        {"operation_ids": ["listPets", "listPets"]},
        {"base_url": "ftp://pets.example.com"},
        {"base_url": "https://user:pw@pets.example.com"},
        {"openapi": "x" * (256 * 1024 + 1)},
    ],
)
def test_http_fields_of_the_wrong_shape(overrides: dict[str, Any]) -> None:
    fields = {
        "name": "Pets",
        "description": "Pets.",
        "kind": "http",
        "openapi": PETS_OPENAPI,
        "operation_ids": ["listPets"],
    }
    with pytest.raises(ValidationError):
        GenerateRequest.model_validate({**fields, **overrides})


def test_a_base_url_with_a_query_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        GenerateRequest.model_validate(
            {
                "name": "Pets",
                "description": "Pets.",
                "kind": "http",
                "openapi": PETS_OPENAPI,
                "operation_ids": ["listPets"],
                "base_url": "https://pets.example.com/?key=1",
            }
        )
    assert refused.value.details == [
        {"path": "$.base_url", "message": "must not carry a query or fragment"}
    ]


async def test_a_route_taking_the_request_answers_the_shared_envelope() -> None:
    app = FastAPI()
    add_exception_handlers(app)

    @app.post("/generate")
    async def generate(request: GenerateRequest) -> dict[str, str]:
        return {"name": request.name}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tool") as client:
        accepted = await client.post("/generate", json=BASE)
        assert accepted.status_code == 200
        bad_schema = {**BASE, "input_schema": {"type": "object", "properties": {"x": 1}}}
        refused = await client.post("/generate", json=bad_schema)
        unknown = await client.post(
            "/generate",
            json={
                "name": "Pets",
                "description": "Pets.",
                "kind": "http",
                "openapi": PETS_OPENAPI,
                "operation_ids": ["feedPets"],
            },
        )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "INVALID_SCHEMA"
    assert error["details"][0]["path"] == "$.input_schema.properties.x"
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "UNKNOWN_OPERATION"
    assert unknown.json()["error"]["details"][0]["known"] == ["createPet", "getPetById", "listPets"]
