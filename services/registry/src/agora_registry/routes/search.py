"""GET /search: active agents by name prefix, tool or tag; own agents with owner=me."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from agora_common.identity import EndUser
from agora_common.models import AgentStatus, SearchPage
from agora_registry.routes.deps import Search
from agora_registry.search import DEFAULT_LIMIT, MAX_LIMIT, SearchParams

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=SearchPage,
    response_model_exclude_none=True,
    summary="Search agents; keyset pages with an opaque cursor",
)
async def search(
    user: EndUser,
    service: Search,
    q: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    tool: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    status: AgentStatus | None = None,
    owner: Literal["me"] | None = None,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    params = SearchParams(q, tool, tag, status, owner == "me", cursor, limit)
    # The answer is already JSON: it is what the cache holds.
    return Response(await service.search(user, params), media_type="application/json")
