"""Agent routes the gateway proxies: register, read, manifest, change, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response

from agora_common.identity import EndUser, SignedInUser
from agora_common.models import AgentCard, AgentView
from agora_registry.routes.deps import Registry
from agora_registry.views import Manifest

router = APIRouter(tags=["agents"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post(
    "/register",
    status_code=201,
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Register an agent (pending vetting, owned by the caller)",
)
async def register(
    card: AgentCard,
    user: SignedInUser,
    registry: Registry,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AgentView:
    """201 with the stored agent; 200 when an Idempotency-Key replays an earlier registration."""
    return replay_aware(response, *await registry.register(user, card, idempotency_key))


def replay_aware(response: Response, agent: AgentView, replayed: bool) -> AgentView:
    """A registration's answer: 200 and `Idempotent-Replayed` when a key replayed it."""
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return agent


@router.get(
    "/{agent_id}",
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="An agent: active ones to anyone, others to the owner and admins",
)
async def get_agent(agent_id: str, user: EndUser, registry: Registry) -> AgentView:
    return await registry.get(user, agent_id)


@router.get(
    "/{agent_id}/manifest",
    summary="The agent's card as registered, with a strong ETag",
    responses={200: {"content": {"application/json": {}}}, 304: {"description": "Not modified"}},
)
async def get_manifest(
    agent_id: str,
    user: EndUser,
    registry: Registry,
    if_none_match: Annotated[str | None, Header(max_length=2048)] = None,
) -> Response:
    manifest = await registry.manifest(user, agent_id)
    headers = {"ETag": manifest.etag, "Cache-Control": _cache_control(manifest)}
    if _matches(if_none_match, manifest.etag):
        return Response(status_code=304, headers=headers)
    return Response(manifest.body, media_type="application/json", headers=headers)


@router.patch(
    "/{agent_id}",
    response_model=AgentView,
    response_model_exclude_none=True,
    summary="Change card fields (owner only); tools or deployment changes go back to vetting",
)
async def update_agent(
    agent_id: str,
    patch: Annotated[dict[str, Any], Body(description="Top-level card fields to replace")],
    user: SignedInUser,
    registry: Registry,
) -> AgentView:
    return await registry.update(user, agent_id, patch)


@router.delete("/{agent_id}", status_code=204, summary="Delete an agent (owner or admin)")
async def delete_agent(agent_id: str, user: SignedInUser, registry: Registry) -> Response:
    await registry.delete(user, agent_id)
    return Response(status_code=204)


def _cache_control(manifest: Manifest) -> str:
    if manifest.public_max_age_s is None:
        return "private, no-store"
    return f"public, max-age={manifest.public_max_age_s}"


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
