"""The three routes every agent serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from agora_agent_sdk.execute import execute
from agora_agent_sdk.runtime import RuntimeDep

AGENT_CARD_PATH = "/.well-known/agent-card.json"

router = APIRouter()


@router.post("/execute")
async def execute_route(request: Request, runtime: RuntimeDep) -> Response:
    """Run one tool for the platform's executor (signed calls only)."""
    content = await execute(request, runtime)
    return Response(content, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/health")
async def health(runtime: RuntimeDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "name": runtime.name,
        "version": runtime.version,
        "tools": list(runtime.tools),
    }


@router.get(AGENT_CARD_PATH)
async def agent_card(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The card generated from the declared tools, as the registry accepts it."""
    url = runtime.config.public_url or str(request.base_url).rstrip("/")
    return runtime.card(url)
