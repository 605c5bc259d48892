"""Bad input over HTTP: every refusal is a 4xx envelope and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agora_common.models import MAX_CARD_BYTES
from tests.registry.conftest import Registry, card, user
from tests.support.factories import schema_bomb

pytestmark = pytest.mark.integration

MINIMAL = card()
TOOL = MINIMAL["tools"][0]


def _tool(name: str = "t", **overrides: Any) -> dict[str, Any]:
    return {**TOOL, "name": name, **overrides}


def _schema(schema: Any) -> dict[str, Any]:
    return card(tools=[_tool(input_schema=schema)])


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


# (case id, JSON body, expected status, a path the error details must name or None)
CASES: list[tuple[str, Any, int, str | None]] = [
    ("not-an-object", [MINIMAL], 422, "$.body"),
    ("name-wrong-type", card(name=123), 422, "$.body.name"),
    ("tools-wrong-type", card(tools="black_scholes"), 422, "$.body.tools"),
    (
        "missing-deployment",
        {k: v for k, v in MINIMAL.items() if k != "deployment"},
        422,
        "$.body.deployment",
    ),
    ("empty-deployment", card(deployment={}), 422, "$.body.deployment"),
    ("name-too-long", card(name="a" * 65), 422, "$.body.name"),
    ("name-empty", card(name=""), 422, "$.body.name"),
    ("name-padded", card(name=" QuantFlow"), 422, "$.body.name"),
    ("name-bidi-override", card(name="Quant\u202eFlow"), 422, "$.body.name"),
    ("name-control-char", card(name="Quant\x00Flow"), 422, "$.body.name"),
    ("name-zero-width", card(name="Quant\u200bFlow"), 422, "$.body.name"),
    ("name-not-nfc", card(name="Cafe\u0301"), 422, "$.body.name"),
    ("name-emoji", card(name="Quant \U0001f680"), 422, "$.body.name"),
    ("description-bidi", card(description="fine \u2067text"), 422, "$.body.description"),
    ("description-escape", card(description="bell \x07"), 422, "$.body.description"),
    ("tool-name-bidi", card(tools=[_tool("a\u202eb")]), 422, "$.body.tools[0].name"),
    ("tool-name-space", card(tools=[_tool("black scholes")]), 422, "$.body.tools[0].name"),
    ("no-tools", card(tools=[]), 422, "$.body.tools"),
    ("too-many-tools", card(tools=[_tool(f"t{i}") for i in range(65)]), 422, "$.body.tools"),
    ("duplicate-tools", card(tools=[_tool("price"), _tool("price")]), 422, "$.body.tools"),
    ("duplicate-tools-case", card(tools=[_tool("Price"), _tool("price")]), 422, "$.body.tools"),
    ("too-many-tags", card(tags=[f"t{i}" for i in range(17)]), 422, "$.body.tags"),
    ("bad-tag", card(tags=["Not A Tag"]), 422, "$.body.tags"),
    ("duplicate-tags", card(tags=["a", "a"]), 422, "$.body.tags"),
    ("semver-short", card(version="1.0"), 422, "$.body.version"),
    ("semver-leading-zero", card(version="01.0.0"), 422, "$.body.version"),
    ("semver-v-prefix", card(version="v1.0.0"), 422, "$.body.version"),
    ("semver-arabic-digits", card(version="\u0661.0.0"), 422, "$.body.version"),
    (
        "schema-invalid-type",
        _schema({"type": "object", "properties": {"a": {"type": "strin"}}}),
        422,
        "$.body.tools[0].input_schema.properties.a.type",
    ),
    (
        "schema-not-an-object-schema",
        _schema({"type": "array"}),
        422,
        "$.body.tools[0].input_schema",
    ),
    (
        "schema-required-not-a-list",
        _schema({"type": "object", "required": "spot"}),
        422,
        "$.body.tools[0].input_schema.required",
    ),
    (
        "schema-remote-ref",
        _schema(
            {"type": "object", "properties": {"a": {"$ref": "https://evil.example/schema.json"}}}
        ),
        422,
        "$.body.tools[0].input_schema.properties.a.$ref",
    ),
    (
        "schema-other-draft",
        _schema({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}),
        422,
        "$.body.tools[0].input_schema",
    ),
    (
        "schema-too-deep",
        _schema(_nested(40)),
        422,
        "$.body.tools[0].input_schema" + ".properties.x" * 16,
    ),
    (
        "schema-anyof-bomb",
        _schema(schema_bomb(16)),
        422,
        "$.body.tools[0].input_schema.$defs.a8",
    ),
    (
        "schema-ref-cycle",
        _schema(
            {
                "type": "object",
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            }
        ),
        422,
        "$.body.tools[0].input_schema.$defs.b.$ref",
    ),
    (
        "schema-wide-oneof",
        _schema({"type": "object", "oneOf": [{"required": [f"p{i}"]} for i in range(40)]}),
        422,
        "$.body.tools[0].input_schema.oneOf",
    ),
    (
        "schema-dangling-ref",
        _schema({"type": "object", "properties": {"a": {"$ref": "#/$defs/nothing"}}}),
        422,
        "$.body.tools[0].input_schema.properties.a.$ref",
    ),
    ("schema-not-a-dict", _schema(["type", "object"]), 422, "$.body.tools[0].input_schema"),
    ("url-not-a-url", card(deployment={"url": "quantflow"}), 422, "$.body.deployment.url"),
    (
        "url-ftp",
        card(deployment={"url": "ftp://quantflow.example.com"}),
        422,
        "$.body.deployment.url",
    ),
    (
        "url-credentials",
        card(deployment={"url": "https://me:pw@quantflow.example.com"}),
        422,
        "$.body.deployment.url",
    ),
    (
        "url-http-public-host",
        card(deployment={"url": "http://quantflow.example.com"}),
        422,
        "$.body.deployment.url",
    ),
    (
        "url-http-docs",
        card(documentation_url="http://docs.example.com"),
        422,
        "$.body.documentation_url",
    ),
    ("image-invalid", card(deployment={"image": "Not An Image!"}), 422, "$.body.deployment.image"),
    (
        "region-invalid",
        card(deployment={"url": "https://q.example.com", "region": "Mars"}),
        422,
        "$.body.deployment.region",
    ),
    ("metadata-too-large", card(metadata={"blob": "x" * 9000}), 422, "$.body.metadata"),
    ("metadata-too-deep", card(metadata=json.loads("[" * 400 + "]" * 400)), 422, None),
    (
        "card-too-large",
        card(
            tools=[
                _tool(f"t{i}", input_schema={"type": "object", "description": "x" * 30_000})
                for i in range(5)
            ]
        ),
        422,
        "$.body",
    ),
    ("unknown-field", card(homepage="https://x.example"), 422, "$.body.homepage"),
    (
        "unknown-nested-field",
        card(deployment={"url": "https://q.example.com", "replicas": 3}),
        422,
        "$.body.deployment.replicas",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected", "path"), [pytest.param(*case[1:], id=case[0]) for case in CASES]
)
async def test_bad_cards_are_refused_and_not_stored(
    registry: Registry, body: Any, expected: int, path: str | None
) -> None:
    owner = user()
    response = await registry.call("POST", "/register", owner, json=body)
    assert response.status_code == expected, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    if path is not None:
        assert path in [detail["path"] for detail in error["details"]], error["details"]
    assert await registry.stored_for(owner.uid) == []


async def test_offending_values_are_not_echoed(registry: Registry) -> None:
    secret = "sk-live-do-not-echo-me"
    response = await registry.call(
        "POST",
        "/register",
        user(),
        json=_schema({"type": "object", "properties": {"a": {"type": secret}}}),
    )
    assert response.status_code == 422
    assert secret not in response.text


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        pytest.param(b'{"name": ', "application/json", 422, id="truncated-json"),
        pytest.param(b"{'name': 'x'}", "application/json", 422, id="single-quotes"),
        pytest.param(b"\xff\xfe garbage", "application/json", 422, id="not-utf8"),
        pytest.param(json.dumps(MINIMAL).encode(), "text/plain", 422, id="not-json-type"),
        pytest.param(b"", "application/json", 422, id="empty"),
        pytest.param(
            b'{"metadata":' + b"[" * 5000 + b"]" * 5000 + b"}",
            "application/json",
            400,
            id="nested-5000-deep",
        ),
    ],
)
async def test_malformed_bodies_are_refused(
    registry: Registry, content: bytes, content_type: str, expected: int
) -> None:
    owner = user()
    response = await registry.call(
        "POST", "/register", owner, content=content, headers={"content-type": content_type}
    )
    assert response.status_code == expected, response.text
    assert "error" in response.json()
    assert await registry.stored_for(owner.uid) == []


async def test_an_oversized_body_is_413_before_it_is_read(registry: Registry) -> None:
    owner = user()
    blob = b'{"name": "' + b"x" * (300 * 1024) + b'"}'
    declared = await registry.call(
        "POST", "/register", owner, content=blob, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert declared.json()["error"]["trace_id"]

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for start in range(0, len(blob), 16 * 1024):
            yield blob[start : start + 16 * 1024]

    streamed = await registry.call(
        "POST", "/register", owner, content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    patch = await registry.call(
        "PATCH",
        "/AnyAgentId000000000000",
        owner,
        content=blob,
        headers={"content-type": "application/json"},
    )
    assert patch.status_code == 413
    assert await registry.stored_for(owner.uid) == []


async def test_a_card_near_the_size_limit_is_accepted(registry: Registry) -> None:
    filler = "x" * (MAX_CARD_BYTES - 2_000)
    body = card(tools=[_tool(input_schema={"type": "object", "description": filler})])
    response = await registry.call("POST", "/register", user(), json=body)
    assert response.status_code == 201, response.text[:300]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000", "http://localhost:8080/agent", "http://[::1]:8000"]
)
async def test_plain_http_is_accepted_for_loopback_hosts_in_local_mode(
    registry: Registry, url: str
) -> None:
    response = await registry.call("POST", "/register", user(), json=card(deployment={"url": url}))
    assert response.status_code == 201, response.text


async def test_a_minimal_image_only_card_is_accepted(registry: Registry) -> None:
    deployment = {"image": "us-docker.pkg.dev/proj/agents/quantflow:1.0.0", "region": "us-central1"}
    response = await registry.call("POST", "/register", user(), json=card(deployment=deployment))
    assert response.status_code == 201, response.text
