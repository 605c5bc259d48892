"""Agent search: who may filter by what, keyset pages with opaque cursors, and the cache."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from agora_common.errors import BadRequest, Forbidden, Unauthenticated
from agora_common.models import AgentStatus, SearchPage, UserIdentity
from agora_registry.records import name_key
from agora_registry.repository import AgentQuery, AgentRepository, ArrayField
from agora_registry.search_cache import SearchCache
from agora_registry.views import summary

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# With both `tool` and `tag`, Firestore filters the tool and we filter the tag: scan at most
# this many agents per page, then hand back a cursor to go on from.
SCAN_BATCH = 100
MAX_SCAN_BATCHES = 5
_MAX_CURSOR_KEY_CHARS = 400


class InvalidCursor(BadRequest):
    code, message = "INVALID_CURSOR", "The cursor is not valid for this search"


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
    def __init__(self, repository: AgentRepository, cache: SearchCache) -> None:
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
        after = None
        if params.cursor is not None:
            after, check = decode_cursor(params.cursor)
            if check != _cursor_check(scope, params, after):
                raise InvalidCursor()
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
            resume_after: str | None = matches[-1]["sort_key"]
        else:
            # Out of scan budget (tool+tag only): go on after the last agent looked at.
            resume_after = None if exhausted else after
        cursor = (
            encode_cursor(resume_after, _cursor_check(scope, params, resume_after))
            if resume_after is not None
            else None
        )
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


def _cursor_check(scope: Scope, params: SearchParams, key: str) -> str:
    """Ties a cursor to its search and key: an edited or transplanted cursor is refused."""
    material = [scope.name, params.q, params.tool, params.tag, _value(scope.status)]
    return hashlib.sha256(json.dumps([*material, key]).encode()).hexdigest()[:24]


def encode_cursor(key: str, check: str) -> str:
    raw = json.dumps({"k": key, "c": check}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(sort key to resume after, check) of a cursor; InvalidCursor (400) for anything else."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(data, dict) or set(data) != {"k", "c"}:
        raise InvalidCursor()
    key, check = data["k"], data["c"]
    if not isinstance(key, str) or not isinstance(check, str) or len(key) > _MAX_CURSOR_KEY_CHARS:
        raise InvalidCursor()
    return key, check
