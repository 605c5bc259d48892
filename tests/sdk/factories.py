"""A demo agent covering every outcome of /execute, and helpers to call it signed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import BaseModel, Field

from agora_agent_sdk import Agent, AgentConfig, Context, ToolError, sign_request
from tests.support.servers import serving

HASH_ID = "Ab3_demo-agent"
SECRET = "s3cret-for-tests-only-0123456789"
PROVIDER_KEY = "sk-provider-key-never-logged"


class Leg(BaseModel):
    strike: float = Field(gt=0)
    quantity: int = 1


class EchoInput(BaseModel):
    text: str = Field(max_length=20)
    legs: list[Leg] = Field(default_factory=list)


class EchoResult(BaseModel):
    text: str
    legs: int


def make_agent(**overrides: Any) -> Agent:
    """An agent with one tool per outcome: ok, async with context, ToolError, crash, bad result."""
    fields: dict[str, Any] = {
        "name": "Demo Agent",
        "description": "A demo agent for the SDK's tests.",
        "version": "1.2.3",
        "tags": ["demo", "test"],
        "provider_keys": ["openai"],
    }
    agent = Agent(**(fields | overrides))

    @agent.tool(description="Echo the text back")
    def echo(payload: EchoInput) -> EchoResult:
        return EchoResult(text=payload.text, legs=len(payload.legs))

    @agent.tool(description="What the context carries", name="whoami")
    async def who_am_i(ctx: Context, payload: EchoInput) -> dict[str, Any]:
        await asyncio.sleep(0)
        key = ctx.provider_key("openai")
        return {
            "execution_id": ctx.execution_id,
            "caller_uid": ctx.caller_uid,
            "key_length": len(key),
            "has_anthropic": ctx.has_provider_key("anthropic"),
        }

    @agent.tool(description="Refuse with a code of its own")
    def refuse(payload: EchoInput) -> None:
        raise ToolError("TEXT_REFUSED", "This text is refused")

    @agent.tool(description="Crash with a secret in the exception")
    def crash(payload: EchoInput) -> None:
        raise RuntimeError(f"internal detail {payload.text}")

    @agent.tool(description="Return a value JSON cannot carry")
    def not_a_number(payload: EchoInput) -> float:
        return float("nan")

    return agent


def make_config(**overrides: Any) -> AgentConfig:
    fields: dict[str, Any] = {"hash_id": HASH_ID, "secret": SECRET}
    return AgentConfig(**(fields | overrides))


@contextmanager
def running(agent: Agent | None = None, **config: Any) -> Iterator[httpx.Client]:
    """The agent's app served for real on a free port, and a client for it."""
    app = (agent or make_agent()).app(make_config(**config))
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def call_body(tool_name: str = "echo", payload: Any = None, **context: Any) -> bytes:
    """The JSON body of one /execute call."""
    ctx: dict[str, Any] = {"execution_id": "exec-1", "caller_uid": "user-1"} | context
    body = {"tool_name": tool_name, "payload": {"text": "hi"} if payload is None else payload}
    return json.dumps(body | {"context": ctx}).encode()


def signed_headers(
    body: bytes, timestamp: int | None = None, *, secret: str = SECRET, hash_id: str = HASH_ID
) -> dict[str, str]:
    return sign_request(secret, hash_id, body, timestamp) | {"content-type": "application/json"}


def execute(
    client: httpx.Client, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST /execute with `body`, signed correctly unless headers are given."""
    return client.post(
        "/execute", content=body, headers=signed_headers(body) if headers is None else headers
    )
