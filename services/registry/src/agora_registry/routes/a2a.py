"""A2A routes the gateway proxies: an agent's signed A2A card, and registering an A2A card."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from agora_common.identity import EndUser, SignedInUser
from agora_common.models import AgentView
from agora_registry.routes.agents import IdempotencyKey, replay_aware
from agora_registry.routes.deps import Cards

router = APIRouter(tags=["a2a"])


@router.get(
    "/{agent_id}/agent-card.json",
    summary="The agent as an A2A AgentCard; an active agent's is signed by the platform",
    responses={200: {"content": {"application/json": {}}}},
)
async def get_agent_card(agent_id: str, user: EndUser, cards: Cards) -> Response:
    exported = await cards.export(user, agent_id)
    cache = (
        "private, no-store"
        if exported.public_max_age_s is None
        else f"public, max-age={exported.public_max_age_s}"
    )
    body = json.dumps(exported.card, separators=(",", ":")).encode()
    return Response(body, media_type="application/json", headers={"Cache-Control": cache})


@router.post(
    "/register/a2a",
    status_code=201,
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Register an A2A AgentCard (pending vetting); its signatures are checked",
)
async def register_a2a(
    a2a: Annotated[dict[str, Any], Body(description="An A2A AgentCard (camelCase JSON)")],
    user: SignedInUser,
    cards: Cards,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AgentView:
    """201 with the stored agent and `card_signatures`; 200 when an Idempotency-Key replays."""
    return replay_aware(response, *await cards.register(user, a2a, idempotency_key))
