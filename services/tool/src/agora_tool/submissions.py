"""Submitting a tool package: checked, stored by its digest, registered as the submitter's agent.

A package is a source archive (.tar.gz or .zip) with the agent card at its root
(`agent-card.json`): a Tool Factory output named by its digest, or the submitter's own archive.
Everything is checked before anything is written: the archive (`agora_common.archives`), and
the card (the registry's model). The platform owns where a submitted package runs and what its
source is: the card's `deployment` is replaced by the image Cloud Build makes from it, and a
card that names a `metadata.source` is refused. Then the archive is stored under its digest
(`packages/sha256-<hex>.tar.gz`, create-only: the same bytes twice are one object), and the
registry registers the card for the submitter with the package as its source, pending vetting.
From there it is the one vetting workflow: a scan (which also runs the package's tests), an
admin's approval, a deploy.

The registration's Idempotency-Key is the package digest: submitting the same package again
answers the agent it created. A stored archive whose registration then failed is not a leftover
that matters: it is content-addressed, and the retry uses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import ValidationError

from agora_common.archives import ArchiveLimits, read_archive
from agora_common.blobs import BlobStore
from agora_common.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    json_path,
    relayed,
)
from agora_common.iam.client import ServiceClient
from agora_common.models import AgentCard, AgentView, CallerKind, UserIdentity
from agora_tool.catalog_sync import CatalogSync
from agora_tool.jobs import JobRepository
from agora_tool.models import SubmissionView

CARD_FILE = "agent-card.json"
ARCHIVE_TYPE = "application/gzip"
_SLUG = re.compile(r"[^a-z0-9]+")


class MissingCard(ValidationFailed):
    code, message = "PACKAGE_CARD_MISSING", f"The package has no {CARD_FILE} at its root"


class PackageNotFound(NotFound):
    code = "PACKAGE_NOT_FOUND"
    message = "No ready package with this digest from one of your generation jobs"


class InvalidCard(ValidationFailed):
    code, message = "PACKAGE_CARD_INVALID", f"The package's {CARD_FILE} is not a valid agent card"


def package_digest(archive: bytes) -> str:
    return "sha256:" + hashlib.sha256(archive).hexdigest()


def package_blob_name(digest: str) -> str:
    return f"packages/sha256-{digest.removeprefix('sha256:')}.tar.gz"


def packaged_card(files: dict[str, bytes], *, source: str, image: str) -> AgentCard:
    """The package's card, with where it runs and its source set by the platform."""
    raw = files.get(CARD_FILE)
    if raw is None:
        raise MissingCard(details=[{"path": CARD_FILE, "found": sorted(files)[:20]}])
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise InvalidCard(details=[{"path": CARD_FILE, "message": "not JSON"}]) from None
    if not isinstance(data, dict):
        raise InvalidCard(details=[{"path": CARD_FILE, "message": "not a JSON object"}])
    if "source" in (data.get("metadata") or {}):
        raise InvalidCard(
            "The platform sets a submitted package's source",
            details=[{"path": "$.metadata.source", "message": "set by the platform"}],
        )
    metadata = {**(data.get("metadata") or {}), "source": source}
    try:
        return AgentCard.model_validate(
            {**data, "deployment": {"image": image}, "metadata": metadata}
        )
    except ValidationError as exc:
        raise InvalidCard(
            details=[
                {"path": json_path(["card", *e["loc"]]), "message": e["msg"]}
                for e in exc.errors(include_input=False)
            ]
        ) from None


class SubmissionService:
    def __init__(
        self,
        jobs: JobRepository,
        blobs: BlobStore | None,
        services: ServiceClient,
        sync: CatalogSync,
        *,
        limits: ArchiveLimits,
        image_repository: str,
    ) -> None:
        self._jobs = jobs
        self._blobs = blobs
        self._services = services
        self._sync = sync
        self._limits = limits
        self._images = image_repository.rstrip("/")

    async def submit(self, user: UserIdentity, archive: bytes) -> SubmissionView:
        uid = _require_user(user)
        blobs = self._require_blobs()
        files = read_archive(archive, self._limits)  # 413/422 before anything is written
        digest = package_digest(archive)
        name = package_blob_name(digest)
        card = packaged_card(files, source=blobs.url(name), image=self._image(files, digest))
        await blobs.put(name, archive, content_type=ARCHIVE_TYPE)
        agent = await self._register(uid, card, digest)
        entries = await self._sync.sync(agent.id)
        return SubmissionView(
            agent_id=agent.id,
            status=agent.status.value,
            package_digest=digest,
            tool_ids=sorted(entry.tool_id for entry in entries),
        )

    async def submit_generated(self, user: UserIdentity, digest: str) -> SubmissionView:
        """A Tool Factory output the user's own job made and found ready."""
        uid = _require_user(user)
        if await self._jobs.ready_with(uid, digest) is None:
            raise PackageNotFound()
        archive = await self._require_blobs().get(
            package_blob_name(digest), max_bytes=self._limits.max_archive_bytes
        )
        return await self.submit(user, archive)

    async def _register(self, uid: str, card: AgentCard, digest: str) -> AgentView:
        body: dict[str, Any] = {
            "owner_uid": uid,
            "card": card.model_dump(mode="json", exclude_none=True),
        }
        response = await self._services.request(
            "registry", "POST", "/internal/agents", json=body, headers={"Idempotency-Key": digest}
        )
        if response.status_code not in (200, 201):
            raise relayed(response.status_code, response.content)
        return AgentView.model_validate_json(response.content)

    def _image(self, files: dict[str, bytes], digest: str) -> str:
        """Where Cloud Build puts the package's image: one repository, tagged by the digest."""
        try:
            name = str(json.loads(files[CARD_FILE]).get("name", "tool"))
        except (KeyError, ValueError, AttributeError):
            name = "tool"
        slug = _SLUG.sub("-", name.lower()).strip("-")[:40] or "tool"
        return f"{self._images}/tool-{slug}:{digest.removeprefix('sha256:')[:16]}"

    def _require_blobs(self) -> BlobStore:
        if self._blobs is None:
            raise ServiceUnavailable("No source bucket is configured for packages")
        return self._blobs


def _require_user(user: UserIdentity) -> str:
    if user.kind is not CallerKind.USER or user.uid is None:
        raise Forbidden("Only signed-in users can do this", code="USER_REQUIRED")
    return user.uid
