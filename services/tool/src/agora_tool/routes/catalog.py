"""Catalog routes the gateway proxies: search, one tool, its versions, deprecation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from agora_common.identity import EndUser, SignedInUser
from agora_tool.catalog import DEFAULT_LIMIT, MAX_LIMIT, CatalogParams
from agora_tool.models import Deprecation, ToolPage, ToolView, VersionList, VersionView
from agora_tool.routes.deps import Catalog

router = APIRouter(tags=["tools"])

Text = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.get(
    "/catalog",
    response_model=ToolPage,
    summary="Search the catalog: public tools to anyone; other statuses to owners and admins",
    responses={200: {"model": ToolPage}},
)
async def catalog(
    user: EndUser,
    catalog: Catalog,
    q: Text = None,
    tag: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,32}$")] = None,
    agent_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
    input_field: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    params = CatalogParams(q, tag, agent_id, input_field, status, cursor, limit)
    body = await catalog.search(user, params)
    return Response(body, media_type="application/json")


@router.get(
    "/{tool_id}",
    response_model=ToolView,
    response_model_exclude_none=True,
    summary="One tool: public ones to anyone, others to the owner and admins",
)
async def get_tool(tool_id: str, user: EndUser, catalog: Catalog) -> ToolView:
    return await catalog.get(user, tool_id)


@router.get(
    "/{tool_id}/versions",
    response_model=VersionList,
    response_model_exclude_none=True,
    summary="Every published version, highest first, and which one `latest` is",
)
async def list_versions(tool_id: str, user: EndUser, catalog: Catalog) -> VersionList:
    return await catalog.versions(user, tool_id)


@router.get(
    "/{tool_id}/versions/{version}",
    response_model=VersionView,
    response_model_exclude_none=True,
    summary="One immutable version; `latest` is the highest that is not deprecated",
)
async def get_version(tool_id: str, version: str, user: EndUser, catalog: Catalog) -> VersionView:
    return await catalog.version(user, tool_id, version)


@router.patch(
    "/{tool_id}/versions/{version}",
    response_model=VersionView,
    response_model_exclude_none=True,
    summary="Deprecate a version with a message, or undo it (owner or admin)",
)
async def deprecate_version(
    tool_id: str, version: str, change: Deprecation, user: SignedInUser, catalog: Catalog
) -> VersionView:
    return await catalog.deprecate(user, tool_id, version, change)
