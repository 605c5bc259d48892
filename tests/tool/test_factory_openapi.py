"""OpenAPI documents into tools: what each tool sends and takes, and the documents refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from agora_tool.factory import InvalidOpenAPI, UnknownOperation
from agora_tool.factory.openapi import Parameter, derive_api
from tests.tool.factory_support import PETS_OPENAPI

PETS: dict[str, Any] = yaml.safe_load(PETS_OPENAPI)
PET_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "exclusiveMinimum": 0},
        "kind": {"type": ["string", "null"], "enum": ["cat", "dog", None]},
    },
}


def document(**paths: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": paths,
    }


def op(op_id: str, **fields: Any) -> dict[str, Any]:
    return {"operationId": op_id, "responses": {"204": {"description": "none"}}, **fields}


def refused(source: Any, operation_ids: list[str], base_url: str | None = None) -> InvalidOpenAPI:
    with pytest.raises(InvalidOpenAPI) as caught:
        derive_api(source, operation_ids, base_url)
    assert caught.value.status_code == 422
    assert caught.value.code == "INVALID_OPENAPI"
    return caught.value


def test_one_tool_per_operation_with_declared_parameters_only() -> None:
    api = derive_api(PETS_OPENAPI, ["getPetById", "listPets", "createPet"])
    assert api.base_url == "https://pets.example.com/v1"
    get, listing, create = api.operations
    assert (get.tool_name, get.method, get.path) == ("get_pet_by_id", "GET", "/pets/{petId}")
    assert get.description == "Get one pet by its id"
    # The path item's parameter joins the operation's; cookies and Authorization are not sent.
    assert get.parameters == (
        Parameter("petId", "petId", "path", required=True),
        Parameter("verbose", "verbose", "query", required=False),
        Parameter("X-Trace-Id", "X-Trace-Id", "header", required=False),
    )
    assert get.input_schema == {
        "type": "object",
        "properties": {
            "petId": {"type": "string"},
            "verbose": {"type": ["boolean", "null"]},
            "X-Trace-Id": {"type": "string"},
        },
        "required": ["petId"],
        "additionalProperties": False,
    }
    assert get.body_key is None
    # OpenAPI 3.0's nullable and boolean exclusiveMinimum, in JSON Schema 2020-12.
    assert get.output_schema == PET_SCHEMA
    assert listing.description == "List pets, a page at a time"
    assert listing.output_schema is None  # an array answer has no MCP outputSchema
    assert create.body_key == "body"
    assert create.input_schema["properties"] == {"body": PET_SCHEMA}
    assert create.input_schema["required"] == ["body"]
    assert create.description == "POST /pets"


def test_text_yaml_json_and_an_object_give_the_same_tools() -> None:
    ids = ["getPetById", "createPet"]
    from_yaml = derive_api(PETS_OPENAPI, ids)
    # JSON has no integer keys: YAML's `200:` is the string "200" once read.
    as_json = json.dumps(yaml.safe_load(PETS_OPENAPI), default=str)
    assert derive_api(as_json, ids) == from_yaml
    assert derive_api(json.loads(as_json), ids) == from_yaml


def test_the_operation_s_parameter_overrides_the_path_item_s() -> None:
    source = document(
        **{
            "/items/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                "get": op(
                    "getItem",
                    parameters=[
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {"name": "id", "in": "query", "schema": {"type": "string"}},
                        {"name": "body", "in": "query", "schema": {"type": "string"}},
                    ],
                ),
            }
        }
    )
    (item,) = derive_api(source, ["getItem"]).operations
    # Same name in two places, and a parameter called body: keys say where they go.
    assert [(p.key, p.location) for p in item.parameters] == [
        ("path_id", "path"),
        ("query_id", "query"),
        ("query_body", "query"),
    ]
    assert item.input_schema["properties"]["path_id"] == {"type": "integer"}


def test_references_resolve_through_components_and_keep_3_1_siblings() -> None:
    source = document(
        **{
            "/notes": {
                "parameters": [{"$ref": "#/components/parameters/Tag"}],
                "post": op(
                    "addNote",
                    requestBody={"$ref": "#/components/requestBodies/Note"},
                    responses={"201": {"$ref": "#/components/responses/Created"}},
                ),
            }
        }
    )
    source["components"] = {
        "parameters": {"Tag": {"name": "tag", "in": "query", "schema": {"type": "string"}}},
        "requestBodies": {
            "Note": {
                "content": {
                    "application/json; charset=utf-8": {
                        "schema": {"$ref": "#/components/schemas/Note", "description": "A note"}
                    }
                }
            }
        },
        "responses": {
            "Created": {
                "description": "ok",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Id"}}
                },
            }
        },
        "schemas": {
            "Note": {"type": "object", "properties": {"text": {"type": "string"}}},
            "Id": {"type": "object", "properties": {"id": {"type": "string"}}, "x-internal": 1},
        },
    }
    (note,) = derive_api(source, ["addNote"]).operations
    assert note.input_schema["properties"]["tag"] == {"type": "string"}
    assert note.input_schema["properties"]["body"] == {
        "description": "A note",
        "allOf": [{"type": "object", "properties": {"text": {"type": "string"}}}],
    }
    assert "required" not in note.input_schema  # the body is optional
    assert note.output_schema == {"type": "object", "properties": {"id": {"type": "string"}}}


def test_operation_ids_become_tool_names() -> None:
    source = document(
        **{
            "/a": {"get": op("getHTTPStatus"), "post": op("list-all.items")},
            "/b": {"get": op("2faCheck"), "put": op("class")},
        }
    )
    ops = derive_api(source, ["getHTTPStatus", "list-all.items", "2faCheck", "class"]).operations
    assert [o.tool_name for o in ops] == [
        "get_http_status",
        "list_all_items",
        "op_2fa_check",
        "class",
    ]


def test_the_base_url_and_server_variables() -> None:
    source = document(**{"/a": {"get": op("a")}})
    source["servers"] = [
        {
            "url": "https://{region}.api.example.com/{version}",
            "variables": {"region": {"default": "eu"}, "version": {"default": "v2"}},
        }
    ]
    assert derive_api(source, ["a"]).base_url == "https://eu.api.example.com/v2"
    assert derive_api(source, ["a"], "https://other.example.com/").base_url == (
        "https://other.example.com"
    )
    source["servers"] = [{"url": "/relative"}]
    problem = refused(source, ["a"])
    assert problem.details == [
        {
            "path": "$.openapi.servers[0].url",
            "message": "not an absolute http(s) URL: give base_url",
        }
    ]
    assert derive_api(source, ["a"], "https://given.example.com").base_url == (
        "https://given.example.com"
    )


def test_an_unknown_operation_lists_the_known_ones_capped() -> None:
    source = document(**{f"/p{i:02}": {"get": op(f"op{i:02}")} for i in range(60)})
    with pytest.raises(UnknownOperation) as caught:
        derive_api(source, ["op01", "nope", "op99"])
    error = caught.value
    assert error.status_code == 422
    assert error.code == "UNKNOWN_OPERATION"
    assert error.details is not None
    assert [d["path"] for d in error.details] == ["$.operation_ids[1]", "$.operation_ids[2]"]
    known = error.details[0]["known"]
    assert len(known) == 50
    assert known[:2] == ["op00", "op01"]
    assert error.message.endswith("(and more)")


ALIAS_BOMB = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nopenapi: 3.0.0\n"


@pytest.mark.parametrize(
    ("source", "path", "message"),
    [
        ("{not json", "$.openapi", "neither valid JSON nor valid YAML"),
        ("openapi: [unclosed", "$.openapi", "neither valid JSON nor valid YAML"),
        (ALIAS_BOMB, "$.openapi", "neither valid JSON nor valid YAML"),
        ('{"openapi": NaN}', "$.openapi", "neither valid JSON nor valid YAML"),
        ("[" * 5000 + "]" * 5000, "$.openapi", "deeper"),
        ("x: " + "y" * (256 * 1024), "$.openapi", "at most 262144 bytes"),
        ({"swagger": "2.0", "paths": {}}, "$.openapi.openapi", "3.0.x or 3.1.x"),
        ({"openapi": "3.1.0"}, "$.openapi.paths", "at least one path"),
        ({"openapi": "3.1.0", "paths": {"no-slash": {}}}, "$.openapi.paths", "starts with /"),
        ([1, 2], "$.openapi", "an OpenAPI document"),
        ({"openapi": "3.1.0", "paths": {"/": {"get": {"x": float("inf")}}}}, "$.openapi", "finite"),
    ],
)
def test_documents_that_cannot_be_used(source: Any, path: str, message: str) -> None:
    problem = refused(source, ["a"])
    assert problem.details is not None
    assert problem.details[0]["path"].startswith(path)
    assert message in problem.details[0]["message"]


def _with_schema(schema: dict[str, Any], **components: Any) -> dict[str, Any]:
    source = document(
        **{
            "/a": {
                "post": op(
                    "a",
                    requestBody={"content": {"application/json": {"schema": schema}}},
                )
            }
        }
    )
    source["components"] = {"schemas": components}
    return source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_with_schema({"$ref": "other.yaml#/Pet"}), "only references inside the document"),
        (_with_schema({"$ref": "https://evil.example/pet.json"}), "only references inside"),
        (_with_schema({"$ref": "#/components/schemas/Missing"}), "leads nowhere"),
        (
            _with_schema(
                {"$ref": "#/components/schemas/Node"},
                Node={
                    "type": "object",
                    "properties": {"next": {"$ref": "#/components/schemas/Node"}},
                },
            ),
            "recursive",
        ),
        (
            _with_schema(
                {"$ref": "#/components/schemas/L0"},
                **{
                    f"L{i}": {
                        "type": "object",
                        "properties": {
                            k: {"$ref": f"#/components/schemas/L{i + 1}"} for k in "abcd"
                        },
                    }
                    for i in range(10)
                },
                L10={"type": "string"},
            ),
            "expands to more than",
        ),
        (_with_schema({"type": "object", "properties": {"x": {"type": "nope"}}}), "not a valid"),
        (
            document(
                **{
                    "/a": {
                        "post": op(
                            "a",
                            requestBody={"content": {"multipart/form-data": {"schema": {}}}},
                        )
                    }
                }
            ),
            "only JSON request bodies",
        ),
        (document(**{"/a/{id}": {"get": op("a")}}), "path parameter id is not declared"),
        (document(**{"/a": {"get": op("a"), "put": op("a")}}), "operationIds must be unique"),
    ],
)
def test_operations_that_cannot_become_tools(source: dict[str, Any], message: str) -> None:
    problem = refused(source, ["a"])
    assert problem.details is not None
    assert message in problem.details[0]["message"]


def test_two_operations_making_one_tool_name_are_refused() -> None:
    source = document(**{"/a": {"get": op("getThing"), "put": op("get_thing")}})
    problem = refused(source, ["getThing", "get_thing"])
    assert problem.details == [
        {"path": "$.operation_ids[1]", "message": "two operations make one tool name"}
    ]
