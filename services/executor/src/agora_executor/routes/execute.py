"""Executions and agent health, for signed-in users and agents (through the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from agora_common.bodies import json_body
from agora_executor.models import AgentHealth, ExecuteRequest, Execution
from agora_executor.routes.deps import ExecutingUser, Executions, Health

router = APIRouter(tags=["executions"])
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=IDEMPOTENCY_KEY_PATTERN),
]
# Read by a dependency declared after the caller's, so an unknown caller is refused before a
# byte of the body is read (FastAPI reads a body parameter before every dependency).
ExecuteBody = Annotated[ExecuteRequest, Depends(json_body(ExecuteRequest))]
# The body's schema for the OpenAPI document, which no longer sees a body parameter (flat: no
# `$defs` to resolve).
_BODY_SCHEMA = ExecuteRequest.model_json_schema()


@router.post(
    "/execute",
    response_model=Execution,
    summary="Execute one tool of an active agent",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
)
async def execute(
    user: ExecutingUser,
    body: ExecuteBody,
    executions: Executions,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Execution:
    """200 with `status: succeeded | failed` (the tool's own error); 4xx/5xx envelopes otherwise."""
    execution, replayed = await executions.execute(user, body, idempotency_key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return execution


@router.get("/health/{agent_id}", response_model=AgentHealth, summary="Probe an agent's health")
async def health(
    agent_id: str, user: ExecutingUser, executions: Executions, probe: Health
) -> AgentHealth:
    """Cached for `health_cache_ttl_s` (300 s) in Redis `agent_health:{agent_id}`."""
    agent = await executions.visible_agent(user, agent_id)
    return await probe.health(agent, await executions.target_url(agent))
