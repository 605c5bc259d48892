"""Hot routes answer like FastAPI routes: same envelope, trace, limits; the rest is FastAPI's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from google.api_core import exceptions as google_exceptions
from pydantic import BaseModel
from starlette.requests import Request

from agora_common.errors import Conflict, add_exception_handlers
from agora_common.hot_routes import HotAnswer, HotRoutes, json_answer, json_body
from tests.support.servers import serving


class Greeting(BaseModel):
    name: str
    times: int = 1


async def greet(request: Request) -> HotAnswer:
    body = await json_body(request, Greeting, max_bytes=1024)
    if body.name == "conflict":
        raise Conflict("Already greeted", code="ALREADY_GREETED")
    if body.name == "storage":
        raise google_exceptions.ServiceUnavailable("firestore is down")
    if body.name == "bug":
        raise RuntimeError("a bug with a secret in it: sk-123")
    answer = json_answer(body, headers=[(b"x-greeted", b"yes")])
    answer.status = 201
    return answer


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    started: list[bool] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started.append(True)
        yield

    app = FastAPI(lifespan=lifespan)
    add_exception_handlers(app)

    @app.post("/greet", status_code=201)
    async def declared(body: Greeting) -> dict[str, str]:
        """Declared for the OpenAPI document; requests go to the hot route."""
        return {"served_by": "fastapi"}

    @app.get("/slow-path")
    async def slow_path() -> dict[str, str]:
        return {"served_by": "fastapi"}

    with serving(HotRoutes(app, {("POST", "/greet"): greet}, access_log=False)) as url:
        assert started == [True]  # the lifespan is FastAPI's
        yield url


def test_a_hot_route_answers_json(base_url: str) -> None:
    response = httpx.post(f"{base_url}/greet", json={"name": "ada", "times": 2})
    assert response.status_code == 201
    assert response.json() == {"name": "ada", "times": 2}
    assert response.headers["x-greeted"] == "yes"
    assert response.headers["content-type"] == "application/json"
    assert "/greet" in httpx.get(f"{base_url}/openapi.json").json()["paths"]


def test_other_routes_and_methods_are_fastapis(base_url: str) -> None:
    assert httpx.get(f"{base_url}/slow-path").json() == {"served_by": "fastapi"}
    wrong_method = httpx.get(f"{base_url}/greet")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("content", "status", "code", "path"),
    [
        (b'{"name": "conflict"}', 409, "ALREADY_GREETED", None),
        (b'{"name": "storage"}', 503, "SERVICE_UNAVAILABLE", None),
        (b'{"name": "bug"}', 500, "INTERNAL", None),
        (b'{"name": 1}', 422, "VALIDATION_FAILED", "$.body.name"),
        (b'{"times": 1}', 422, "VALIDATION_FAILED", "$.body.name"),
        (b"{not json", 422, "VALIDATION_FAILED", "$.body"),
        (b'{"name": "' + b"x" * 2000 + b'"}', 413, "PAYLOAD_TOO_LARGE", None),
    ],
)
def test_errors_are_the_shared_envelope(
    base_url: str, content: bytes, status: int, code: str, path: str | None
) -> None:
    response = httpx.post(
        f"{base_url}/greet",
        content=content,
        headers={"content-type": "application/json", "traceparent": TRACEPARENT},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["trace_id"] == TRACE_ID
    assert "sk-123" not in response.text
    if path:
        assert [d["path"] for d in error["details"]] == [path]


def test_a_streamed_body_past_the_cap_is_413(base_url: str) -> None:
    """No Content-Length to go by: the cap holds while the body is read."""

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}'

    response = httpx.post(
        f"{base_url}/greet", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_only_json_bodies_are_read(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/greet", content=b'{"name": "ada"}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.body"
    typed = httpx.post(
        f"{base_url}/greet",
        content=b'{"name": "ada"}',
        headers={"content-type": "application/merge-patch+json; charset=utf-8"},
    )
    assert typed.status_code == 201


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
