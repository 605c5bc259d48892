"""Every non-2xx answer has the one envelope, over real HTTP, and leaks no internals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from agora_common import errors
from agora_common.app import create_service_app
from tests.common.conftest import DemoSettings
from tests.support.factories import local_settings_kwargs
from tests.support.servers import free_port, serving

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SECRET = "db-password-hunter2"


class Item(BaseModel):
    name: str = Field(min_length=1)
    count: int


def build_app(dev_key: tuple[Path, Path], port: int) -> FastAPI:
    key_file, jwks = dev_key
    settings = DemoSettings(**local_settings_kwargs(key_file, jwks, f"http://127.0.0.1:{port}"))
    app = create_service_app(settings, title="demo")

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"connection to postgres://admin:{SECRET}@db failed")

    @app.get("/raise/{status}")
    async def raise_status(status: int) -> None:
        raise errors.error_for_status(status)

    @app.get("/agent")
    async def agent() -> None:
        raise errors.NotFound("Agent not found", code="AGENT_NOT_FOUND")

    return app


@pytest.fixture(scope="module")
def base_url(dev_key: tuple[Path, Path]) -> Iterator[str]:
    port = free_port()
    with serving(build_app(dev_key, port), port) as url:
        yield url


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert re.fullmatch(r"[0-9a-f]{32}", error["trace_id"])
    assert RFC3339.match(error["timestamp"])
    return error


def test_unknown_route_is_404(base_url: str) -> None:
    assert_envelope(httpx.get(f"{base_url}/no/such/route"), 404, "NOT_FOUND")


def test_wrong_method_is_405(base_url: str) -> None:
    assert_envelope(httpx.delete(f"{base_url}/healthz"), 405, "METHOD_NOT_ALLOWED")


def test_validation_is_422_with_field_paths_and_no_echo(base_url: str) -> None:
    response = httpx.post(f"{base_url}/items", json={"name": "", "count": "many-secret-value"})
    error = assert_envelope(response, 422, "VALIDATION_FAILED")
    paths = {d["path"] for d in error["details"]}  # type: ignore[index, union-attr]
    assert paths == {"$.body.name", "$.body.count"}
    assert "many-secret-value" not in response.text


def test_malformed_json_is_422(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_envelope(response, 422, "VALIDATION_FAILED")


def test_unhandled_error_is_500_without_internals(base_url: str) -> None:
    response = httpx.get(f"{base_url}/boom")
    error = assert_envelope(response, 500, "INTERNAL")
    assert error["message"] == "Internal error"
    assert SECRET not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (401, "UNAUTHENTICATED"),
        (403, "FORBIDDEN"),
        (409, "CONFLICT"),
        (413, "PAYLOAD_TOO_LARGE"),
        (429, "RATE_LIMITED"),
        (502, "BAD_GATEWAY"),
        (503, "SERVICE_UNAVAILABLE"),
        (504, "GATEWAY_TIMEOUT"),
    ],
)
def test_domain_errors_share_the_envelope(base_url: str, status: int, code: str) -> None:
    assert_envelope(httpx.get(f"{base_url}/raise/{status}"), status, code)


def test_domain_specific_codes_pass_through(base_url: str) -> None:
    error = assert_envelope(httpx.get(f"{base_url}/agent"), 404, "AGENT_NOT_FOUND")
    assert error["message"] == "Agent not found"


def test_incoming_trace_id_is_the_envelopes_trace_id(base_url: str) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = httpx.get(
        f"{base_url}/nope", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
    )
    assert response.json()["error"]["trace_id"] == trace
