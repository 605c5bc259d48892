"""Every Firestore call of the catalog: `tools/{tool_id}` and `tools/{tool_id}/versions/{v}`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from agora_common.clients import bounded_call
from agora_common.errors import Conflict
from agora_tool.records import PUBLIC, ToolEntry, ToolVersion

TOOLS = "tools"
VERSIONS = "versions"

ArrayField = Literal["terms", "tags", "input_fields"]


class VersionExists(Conflict):
    code = "VERSION_EXISTS"
    message = "This version is already published with other content; publish a new version"


@dataclass(frozen=True)
class CatalogQuery:
    """One page of entries in sort-key order; each set field is one Firestore filter."""

    limit: int
    status: str | None = PUBLIC
    owner_uid: str | None = None
    agent_id: str | None = None
    # One array-contains per query is all Firestore allows; the rest is filtered in memory.
    contains: tuple[ArrayField, str] | None = None
    after: str | None = None


class ToolRepository:
    def __init__(self, db: firestore.AsyncClient, *, timeout_s: float = 2.0) -> None:
        self._call = bounded_call(timeout_s)
        self._tools = db.collection(TOOLS)
        self._db = db

    async def get(self, tool_id: str) -> ToolEntry | None:
        snapshot = await self._tools.document(tool_id).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return replace(ToolEntry.from_document(data), update_time=snapshot.update_time)

    async def of_agent(self, agent_id: str) -> list[ToolEntry]:
        query = self._tools.where(filter=FieldFilter("agent_id", "==", agent_id))
        return [
            ToolEntry.from_document(doc.to_dict() or {}) async for doc in query.stream(**self._call)
        ]

    async def put(self, entries: list[ToolEntry]) -> None:
        """Entries of one agent, all at once."""
        if not entries:
            return
        batch = self._db.batch()
        for entry in entries:
            batch.set(self._tools.document(entry.tool_id), entry.to_document())
        await batch.commit(**self._call)

    async def search(self, query: CatalogQuery) -> list[ToolEntry]:
        q: Any = self._tools
        if query.status is not None:
            q = q.where(filter=FieldFilter("status", "==", query.status))
        if query.owner_uid is not None:
            q = q.where(filter=FieldFilter("owner_uid", "==", query.owner_uid))
        if query.agent_id is not None:
            q = q.where(filter=FieldFilter("agent_id", "==", query.agent_id))
        if query.contains is not None:
            name, value = query.contains
            q = q.where(filter=FieldFilter(name, "array_contains", value))
        if query.after is not None:
            q = q.where(filter=FieldFilter("sort_key", ">", query.after))
        q = q.order_by("sort_key").limit(query.limit)
        return [
            ToolEntry.from_document(doc.to_dict() or {}) async for doc in q.stream(**self._call)
        ]

    async def public_agent_ids(self, *, page: int = 500) -> set[str]:
        """The agents whose tools the public catalog lists now (what a reconcile checks)."""
        found: set[str] = set()
        after: str | None = None
        while True:
            entries = await self.search(CatalogQuery(limit=page, after=after))
            found.update(entry.agent_id for entry in entries)
            if len(entries) < page:
                return found
            after = entries[-1].sort_key

    # Versions

    def _version_doc(self, tool_id: str, version: str) -> Any:
        return self._tools.document(tool_id).collection(VERSIONS).document(version)

    async def get_version(self, tool_id: str, version: str) -> ToolVersion | None:
        snapshot = await self._version_doc(tool_id, version).get(**self._call)
        data = snapshot.to_dict()
        if not snapshot.exists or data is None:
            return None
        return ToolVersion.from_document(data)

    async def versions(self, tool_id: str) -> list[ToolVersion]:
        query = self._tools.document(tool_id).collection(VERSIONS)
        return [
            ToolVersion.from_document(doc.to_dict() or {})
            async for doc in query.stream(**self._call)
        ]

    async def publish(self, tool_id: str, version: ToolVersion) -> bool:
        """Create the version once: True if written now, False if already there with the same
        content, VersionExists (409) if there with other content. Never overwrites."""
        try:
            await self._version_doc(tool_id, version.version).create(
                version.to_document(), **self._call
            )
            return True
        except google_errors.AlreadyExists:
            stored = await self.get_version(tool_id, version.version)
            if stored is not None and stored.content.digest == version.content.digest:
                return False
            raise VersionExists(
                details=[{"tool_id": tool_id, "version": version.version}]
            ) from None

    async def set_deprecation(
        self, tool_id: str, version: str, *, message: str | None, at: datetime | None
    ) -> None:
        """Only the deprecation fields change: the version's content stays as published."""
        await self._version_doc(tool_id, version).update(
            {
                "deprecated": message is not None,
                "deprecation_message": message,
                "deprecated_at": at,
            },
            **self._call,
        )
