"""Agent search: who may filter by what, keyset pages with opaque cursors, and the cache."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from agora_common.answer_cache import AnswerCache
from agora_common.cursors import next_cursor, resume_after
from agora_common.errors import Forbidden, Unauthenticated
from agora_common.models import AgentStatus, SearchPage, UserIdentity
from agora_registry.records import name_key
from agora_registry.repository import AgentQuery, AgentRepository, ArrayField
from agora_registry.views import summary

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# With both `tool` and `tag`, Firestore filters the tool and we filter the tag: scan at most
# this many agents per page, then hand back a cursor to go on from.
SCAN_BATCH = 100
MAX_SCAN_BATCHES = 5


@dataclass(frozen=True)
class SearchParams:
    q: str | None = None
    tool: str | None = None
    tag: str | None = None
    status: AgentStatus | None = None
    owner_me: bool = False
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Scope:
    """What the caller may see: a cache partition, the base query, and the owner fields."""

    name: str
    status: AgentStatus | None
    owner_uid: str | None
    full: bool


class SearchService:
    def __init__(self, repository: AgentRepository, cache: AnswerCache) -> None:
        self._repo = repository
        self._cache = cache

    async def search(self, user: UserIdentity, params: SearchParams) -> bytes:
        """One page of results as JSON bytes (what the cache holds)."""
        scope = scope_for(user, params)
        fingerprint = json.dumps(
            [
                scope.name,
                params.q,
                params.tool,
                params.tag,
                _value(scope.status),
                params.cursor,
                params.limit,
            ]
        )
        key, cached = await self._cache.get(fingerprint)
        if cached is not None:
            return cached
        page = await self._page(scope, params)
        answer = page.model_dump_json(exclude_none=True).encode()
        await self._cache.put(key, answer)
        return answer

    async def _page(self, scope: Scope, params: SearchParams) -> SearchPage:
        after = resume_after(params.cursor, _material(scope, params))
        query = query_for(scope, params, after)
        extra_tag = params.tag if params.tool is not None else None
        matches: list[dict[str, Any]] = []
        exhausted = False
        for _ in range(MAX_SCAN_BATCHES):
            batch = await self._repo.search(replace(query, after=after))
            matches += [
                doc for doc in batch if extra_tag is None or extra_tag in doc.get("tags", [])
            ]
            if len(matches) > params.limit:
                break
            if len(batch) < query.limit:
                exhausted = True
                break
            after = batch[-1]["sort_key"]
        if len(matches) > params.limit:
            matches = matches[: params.limit]
            resume_from: str | None = matches[-1]["sort_key"]
        else:
            # Out of scan budget (tool+tag only): go on after the last agent looked at.
            resume_from = None if exhausted else after
        cursor = next_cursor(resume_from, _material(scope, params))
        return SearchPage(
            items=[summary(doc, full=scope.full) for doc in matches], next_cursor=cursor
        )


def query_for(scope: Scope, params: SearchParams, after: str | None) -> AgentQuery:
    """The Firestore query of a search; with tool and tag, the tag is filtered afterwards."""
    contains: tuple[ArrayField, str] | None = None
    if params.tool is not None:
        contains = ("tool_names", params.tool)
    elif params.tag is not None:
        contains = ("tags", params.tag)
    both = params.tool is not None and params.tag is not None
    return AgentQuery(
        limit=SCAN_BATCH if both else params.limit + 1,
        status=scope.status,
        owner_uid=scope.owner_uid,
        contains=contains,
        prefix=name_key(params.q) if params.q else None,
        after=after,
    )


def scope_for(user: UserIdentity, params: SearchParams) -> Scope:
    """owner=me: the caller's own agents, any status; otherwise active ones, or any for admins."""
    if params.owner_me:
        if user.is_anonymous or user.uid is None:
            raise Unauthenticated("Sign in to list your own agents")
        return Scope(f"owner:{user.uid}", params.status, user.uid, full=True)
    status = params.status or AgentStatus.ACTIVE
    if status is AgentStatus.ACTIVE:
        return Scope("public", status, None, full=False)
    if not user.admin:
        raise Forbidden(
            "Only admins can search agents that are not active; use owner=me for your own",
            code="STATUS_FILTER_NOT_ALLOWED",
        )
    return Scope("admin", status, None, full=True)


def _value(status: AgentStatus | None) -> str | None:
    return status.value if status is not None else None


def _material(scope: Scope, params: SearchParams) -> list[str | None]:
    """What a cursor is tied to: the scope and the filters (not the page size)."""
    return [scope.name, params.q, params.tool, params.tag, _value(scope.status)]
