"""Executions and agent health, for signed-in users and agents (through the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from agora_executor.models import AgentHealth, ExecuteRequest, Execution
from agora_executor.routes.deps import Caller, Executions, Health

router = APIRouter(tags=["executions"])
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("/execute", response_model=Execution, summary="Execute one tool of an active agent")
async def execute(
    body: ExecuteRequest,
    user: Caller,
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
async def health(agent_id: str, user: Caller, executions: Executions, probe: Health) -> AgentHealth:
    """Cached for `health_cache_ttl_s` (300 s) in Redis `agent_health:{agent_id}`."""
    agent = await executions.visible_agent(user, agent_id)
    return await probe.health(agent, await executions.target_url(agent))
