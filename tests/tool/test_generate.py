"""POST /generate over HTTP: bad specifications are 4xx at once with no job, and only signed-in
people may start one or read theirs."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.models import CallerKind, UserIdentity
from tests.tool.conftest import Catalog, user

pytestmark = pytest.mark.integration

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Quotes", "version": "1"},
    "servers": [{"url": "https://quotes.example.com"}],
    "paths": {
        "/quotes/{symbol}": {
            "get": {
                "operationId": "get_quote",
                "parameters": [
                    {"name": "symbol", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def http_spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Quotes",
        "description": "Quotes from the API",
        "kind": "http",
        "openapi": DOCUMENT,
        "operation_ids": ["get_quote"],
        **overrides,
    }


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (http_spec(openapi={"openapi": "3.1.0"}), "INVALID_OPENAPI"),
        (http_spec(openapi="not: [valid"), "INVALID_OPENAPI"),
        (http_spec(operation_ids=["no_such_operation"]), "UNKNOWN_OPERATION"),
        (
            {
                "name": "Bad",
                "description": "A schema that is not JSON Schema",
                "kind": "python",
                "input_schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}},
                "output_schema": {"type": "object"},
            },
            "INVALID_SCHEMA",
        ),
    ],
)
async def test_a_bad_specification_is_a_4xx_and_no_job(
    catalog: Catalog, spec: dict[str, Any], code: str
) -> None:
    owner = user()
    refused = await catalog.tool.call("POST", "/generate", owner, json=spec)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code
    jobs = catalog.db.collection("tool_jobs").where(
        filter=FieldFilter("owner_uid", "==", owner.uid)
    )
    assert [doc async for doc in jobs.stream()] == []


async def test_who_may_generate(catalog: Catalog) -> None:
    assert (await catalog.tool.call("POST", "/generate", json=http_spec())).status_code == 401
    as_agent = UserIdentity(kind=CallerKind.AGENT, uid="agent-1")
    refused = await catalog.tool.call("POST", "/generate", as_agent, json=http_spec())
    assert refused.status_code == 403
    missing = await catalog.tool.call("GET", "/generate/" + "0" * 32, user())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "JOB_NOT_FOUND"
    assert (await catalog.tool.call("GET", "/generate/" + "0" * 32)).status_code == 401
