"""Reading the catalog: who sees which entry, searches with keyset pages, versions, deprecation."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from agora_common.answer_cache import AnswerCache
from agora_common.cursors import next_cursor, resume_after
from agora_common.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from agora_common.models import AgentStatus, UserIdentity
from agora_tool.models import Deprecation, ToolPage, ToolView, VersionList, VersionView
from agora_tool.records import (
    PUBLIC,
    REMOVED,
    ToolEntry,
    ToolVersion,
    query_terms,
    valid_tool_id,
    version_key,
)
from agora_tool.repository import ArrayField, CatalogQuery, ToolRepository

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Filters Firestore cannot combine are applied here: scan at most this many entries per page.
SCAN_BATCH = 100
MAX_SCAN_BATCHES = 5
LATEST = "latest"
STATUSES = frozenset({*(s.value for s in AgentStatus), REMOVED})


class ToolNotFound(NotFound):
    code, message = "TOOL_NOT_FOUND", "Tool not found"


class VersionNotFound(NotFound):
    code, message = "VERSION_NOT_FOUND", "Version not found"


@dataclass(frozen=True)
class CatalogParams:
    q: str | None = None
    tag: str | None = None
    agent_id: str | None = None
    input_field: str | None = None
    status: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Scope:
    name: str
    status: str | None
    owner_uid: str | None
    full: bool


class CatalogService:
    def __init__(self, repository: ToolRepository, cache: AnswerCache) -> None:
        self._repo = repository
        self._cache = cache

    async def search(self, user: UserIdentity, params: CatalogParams) -> bytes:
        """One page of the catalog as JSON bytes (what the cache holds)."""
        scope = scope_for(user, params.status)
        material = _material(scope, params)
        key, cached = await self._cache.get(json.dumps([*material, params.cursor, params.limit]))
        if cached is not None:
            return cached
        page = await self._page(scope, params, material)
        answer = page.model_dump_json(exclude_none=True).encode()
        await self._cache.put(key, answer)
        return answer

    async def _page(
        self, scope: Scope, params: CatalogParams, material: list[str | None]
    ) -> ToolPage:
        after = resume_after(params.cursor, material)
        filters = _array_filters(params)
        contains = filters[0] if filters else None
        rest = filters[1:]
        query = CatalogQuery(
            limit=SCAN_BATCH if rest else params.limit + 1,
            status=scope.status,
            owner_uid=scope.owner_uid,
            agent_id=params.agent_id,
            contains=contains,
        )
        matches: list[ToolEntry] = []
        exhausted = False
        for _ in range(MAX_SCAN_BATCHES):
            batch = await self._repo.search(replace(query, after=after))
            matches += [entry for entry in batch if _matches(entry, rest)]
            if len(matches) > params.limit:
                break
            if len(batch) < query.limit:
                exhausted = True
                break
            after = batch[-1].sort_key
        if len(matches) > params.limit:
            matches = matches[: params.limit]
            resume_from: str | None = matches[-1].sort_key
        else:
            resume_from = None if exhausted else after
        return ToolPage(
            items=[view(entry, full=scope.full) for entry in matches],
            next_cursor=next_cursor(resume_from, material),
        )

    async def get(self, user: UserIdentity, tool_id: str) -> ToolView:
        entry = await self._visible(user, tool_id)
        return view(entry, full=_full(user, entry))

    async def versions(self, user: UserIdentity, tool_id: str) -> VersionList:
        await self._visible(user, tool_id)
        stored = sorted(
            await self._repo.versions(tool_id), key=lambda v: version_key(v.version), reverse=True
        )
        latest = next((v.version for v in stored if not v.deprecated), None)
        return VersionList(
            tool_id=tool_id, items=[version_view(tool_id, v) for v in stored], latest=latest
        )

    async def version(self, user: UserIdentity, tool_id: str, version: str) -> VersionView:
        await self._visible(user, tool_id)
        if version == LATEST:
            listed = await self.versions(user, tool_id)
            if listed.latest is None:
                raise VersionNotFound("Every version of this tool is deprecated")
            version = listed.latest
        stored = await self._repo.get_version(tool_id, version)
        if stored is None:
            raise VersionNotFound()
        return version_view(tool_id, stored)

    async def deprecate(
        self, user: UserIdentity, tool_id: str, version: str, change: Deprecation
    ) -> VersionView:
        """Owner or admin: mark a version deprecated with a message, or undo it."""
        entry = await self._visible(user, tool_id)
        if not _full(user, entry):
            raise Forbidden(
                "Only the tool's owner or an admin can deprecate its versions",
                code="NOT_TOOL_OWNER",
            )
        if await self._repo.get_version(tool_id, version) is None:
            raise VersionNotFound()
        message = (change.message or "deprecated") if change.deprecated else None
        at = datetime.now(UTC) if change.deprecated else None
        await self._repo.set_deprecation(tool_id, version, message=message, at=at)
        await self._cache.invalidate()
        stored = await self._repo.get_version(tool_id, version)
        assert stored is not None
        return version_view(tool_id, stored)

    async def _visible(self, user: UserIdentity, tool_id: str) -> ToolEntry:
        """The entry if this user may see it; 404 otherwise, so existence is not revealed."""
        entry = await self._repo.get(tool_id) if valid_tool_id(tool_id) else None
        if entry is None or not (entry.public or _full(user, entry)):
            raise ToolNotFound()
        return entry


def scope_for(user: UserIdentity, status: str | None) -> Scope:
    """The public catalog to anyone; other statuses: admins see all, owners their own."""
    if status is None or status == PUBLIC:
        # Admins see owner fields, so their pages are cached apart from everyone else's.
        return Scope("public-admin" if user.admin else "public", PUBLIC, None, full=user.admin)
    if status not in STATUSES:
        raise _bad_status(status)
    if user.admin:
        return Scope("admin", status, None, full=True)
    if user.is_anonymous or user.uid is None:
        raise Unauthenticated("Sign in to list your own tools that are not public")
    return Scope(f"owner:{user.uid}", status, user.uid, full=True)


def _bad_status(status: str) -> ValidationFailed:
    return ValidationFailed(
        f"Unknown status {status!r}",
        details=[{"path": "query.status", "allowed": sorted(STATUSES)}],
    )


def _array_filters(params: CatalogParams) -> list[tuple[ArrayField, str]]:
    """Each array filter of a query; the first goes to Firestore, the rest are checked here."""
    filters: list[tuple[ArrayField, str]] = []
    for term in query_terms(params.q or ""):
        filters.append(("terms", term))
    if params.input_field:
        filters.append(("input_fields", params.input_field.casefold()))
    if params.tag:
        filters.append(("tags", params.tag))
    return filters


def _matches(entry: ToolEntry, filters: list[tuple[ArrayField, str]]) -> bool:
    return all(value in entry.array_field(field) for field, value in filters)


def _material(scope: Scope, params: CatalogParams) -> list[str | None]:
    return [scope.name, params.q, params.tag, params.agent_id, params.input_field, scope.status]


def _full(user: UserIdentity, entry: ToolEntry) -> bool:
    return user.admin or (user.uid is not None and user.uid == entry.owner_uid)


def view(entry: ToolEntry, *, full: bool) -> ToolView:
    return ToolView(
        tool_id=entry.tool_id,
        name=entry.name,
        description=entry.content.description,
        agent_id=entry.agent_id,
        agent_name=entry.agent_name,
        owner_uid=entry.owner_uid if full else None,
        input_schema=entry.content.input_schema,
        output_schema=entry.content.output_schema,
        tags=list(entry.tags),
        status=entry.status,
        current_version=entry.current_version,
        versions=list(entry.versions),
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        version_conflict=entry.version_conflict if full else None,
    )


def version_view(tool_id: str, version: ToolVersion) -> VersionView:
    return VersionView(
        tool_id=tool_id,
        version=version.version,
        description=version.content.description,
        input_schema=version.content.input_schema,
        output_schema=version.content.output_schema,
        card_digest=version.content.card_digest,
        content_digest=version.content.digest,
        published_at=version.published_at,
        deprecated=version.deprecated,
        deprecation_message=version.deprecation_message,
        deprecated_at=version.deprecated_at,
    )
