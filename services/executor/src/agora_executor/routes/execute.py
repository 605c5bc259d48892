"""Executions and agent health, for signed-in users and agents (through the gateway).

`POST /execute` is every user request's route, so it is served by `hot_execute` through
`HotRoutes` (agora_common.hot_routes), skipping FastAPI's stack; the FastAPI route below declares
it for the OpenAPI document and runs the same code. Both call the caller checks the other
routes use as dependencies.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from agora_common.errors import ValidationFailed
from agora_common.hot_routes import HotAnswer, json_answer, json_body
from agora_common.iam.verifier import service_caller
from agora_common.identity import end_user, signed_in_user
from agora_common.models import UserIdentity
from agora_executor.models import AgentHealth, ExecuteRequest, Execution
from agora_executor.routes.deps import Caller, Executions, Health, checked_agent_claim
from agora_executor.service import ExecutionService
from agora_executor.settings import ExecutorSettings

router = APIRouter(tags=["executions"])
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=IDEMPOTENCY_KEY_PATTERN),
]
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
REPLAYED = [(b"idempotent-replayed", b"true")]


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


async def hot_execute(request: Request) -> HotAnswer:
    """`POST /execute` as served: the same checks, in the same order, as the route above."""
    caller = await service_caller(request)
    user: UserIdentity = await checked_agent_claim(
        request, await signed_in_user(await end_user(request, caller))
    )
    settings: ExecutorSettings = request.app.state.settings
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.match(key):
        raise ValidationFailed(
            details=[
                {
                    "path": "$.header.Idempotency-Key",
                    "message": "1 to 128 printable ASCII characters, no spaces",
                }
            ]
        )
    body = await json_body(request, ExecuteRequest, max_bytes=settings.max_request_bytes)
    executions: ExecutionService = request.app.state.executions
    execution, replayed = await executions.execute(user, body, key)
    return json_answer(execution, headers=REPLAYED if replayed else None)


@router.get("/health/{agent_id}", response_model=AgentHealth, summary="Probe an agent's health")
async def health(agent_id: str, user: Caller, executions: Executions, probe: Health) -> AgentHealth:
    """Cached for `health_cache_ttl_s` (300 s) in Redis `agent_health:{agent_id}`."""
    agent = await executions.visible_agent(user, agent_id)
    return await probe.health(agent, await executions.target_url(agent))


HOT_ROUTES = {("POST", "/execute"): hot_execute}
