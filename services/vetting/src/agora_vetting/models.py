"""Scan receipts, the queue, and admins' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from agora_common.models.fields import plain_text
from agora_vetting.scanners.source import IGNORED_DIRS

Verdict = Literal["clean", "findings", "inconclusive"]
Note = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(plain_text)]


CheckStatus = Literal["ok", "findings", "failed", "skipped", "timeout", "unavailable"]


class CheckResult(BaseModel):
    """One part of a scan: the card, the URL, the live probe, one static scanner, or the tests."""

    name: str
    version: str | None = None
    status: CheckStatus
    reason: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    duration_ms: float | None = None


class ScanReceipt(BaseModel):
    scan_id: str
    agent_id: str
    card_digest: str
    source_digest: str | None = None  # what the static checks read
    scope: list[str]
    verdict: Verdict
    reason: str | None = None  # why inconclusive
    checks: list[CheckResult]
    findings: list[dict[str, Any]]
    requested_by: str  # "submission" or the admin's uid
    scanned_at: datetime
    # An MCP agent's tools as its server listed them (name, description, schemas, fingerprint),
    # and one fingerprint of the whole list; None for other agents, or when it was not read.
    mcp_tools: list[dict[str, Any]] | None = None
    mcp_tools_fingerprint: str | None = None
    # The platform's signature of the fields above, made when the receipt was stored (see
    # agora_vetting.receipt_signing). None: stored unsigned (before receipts were signed, or
    # with no signing key configured).
    signed: str | None = None


class ScanTicket(BaseModel):
    """What the task carries: which agent, which card, which scan."""

    model_config = ConfigDict(extra="forbid")
    scan_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
    agent_id: Annotated[str, Field(min_length=1, max_length=128)]
    card_digest: Annotated[str, Field(min_length=1, max_length=128)]
    requested_by: Annotated[str, Field(min_length=1, max_length=128)] = "submission"


class ScanQueued(BaseModel):
    scan_id: str
    agent_id: str
    queued: bool  # False: a task with this name was queued already


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: Annotated[str, Field(min_length=1, max_length=128)]
    card_digest: Annotated[str, Field(min_length=1, max_length=128)]


class QueueItem(BaseModel):
    agent_id: str
    name: str | None = None
    owner_uid: str
    status: str
    submitted_at: datetime
    card_digest: str
    latest_scan: ScanReceipt | None = None


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = None


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: Note | None = None
    # Approve despite findings (recorded): an admin's informed call, never the default.
    accept_findings: bool = False


class ApprovalFor(ApproveRequest):
    """An approval another service relays for the admin it verified (the tool service)."""

    admin_uid: Annotated[str, Field(min_length=1, max_length=128)]
    admin_email: Annotated[str, Field(max_length=320)] | None = None


class ReasonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Note


class Decision(BaseModel):
    """The current decision on an agent, as its owner and admins see it."""

    agent_id: str
    decision: Literal["approved", "rejected", "suspended", "reinstated"]
    status: str
    reason: str | None = None
    decided_by: str
    decided_at: datetime
    deploy: dict[str, Any] | None = None  # the last deploy's outcome, after an approval
    webhook: dict[str, Any] | None = None  # the owner's webhook delivery, if they set one


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=8, max_length=2048)]


class OwnerWebhook(BaseModel):
    """An owner's webhook for decisions on their agents; the secret is shown once, when set."""

    url: str
    secret: str | None = None
    secret_last4: str
    updated_at: datetime


# --- package checks (the Tool Factory's verification) ------------------------------------------

PACKAGE_MAX_FILES = 500
PACKAGE_MAX_BYTES = 2 * 1024 * 1024  # the files' contents together, UTF-8
PACKAGE_PATH_MAX_CHARS = 255


def package_path(path: str) -> str:
    """A file's place in the package: relative, "/"-separated, no way out of the folder."""
    if len(path) > PACKAGE_PATH_MAX_CHARS:
        raise ValueError(f"a path is at most {PACKAGE_PATH_MAX_CHARS} characters")
    if "\\" in path:
        raise ValueError("paths are /-separated: no backslash")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise ValueError("no control characters in a path")
    if path.startswith("/"):
        raise ValueError("paths are relative to the package, not absolute")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError("no empty, '.' or '..' segment in a path")
    if skipped := [part for part in parts[:-1] if part in IGNORED_DIRS]:
        raise ValueError(f"{skipped[0]} is a folder scans skip")
    return path


def _one_line(value: str) -> str:
    if any(ch in value for ch in "\t\n\r"):
        raise ValueError("a label is one line")
    return value


PackagePath = Annotated[str, AfterValidator(package_path)]
# What the package is shown as (the scope's root): its card's name, e.g. "Meeting Booker".
PackageLabel = Annotated[
    str,
    Field(min_length=1, max_length=128),
    AfterValidator(plain_text),
    AfterValidator(_one_line),
]


class PackageCheckRequest(BaseModel):
    """A package's files, by relative path, and the name it is shown by."""

    model_config = ConfigDict(extra="forbid")
    files: dict[PackagePath, str]
    label: PackageLabel

    @field_validator("files", mode="before")
    @classmethod
    def _few_enough(cls, value: Any) -> Any:
        # Before each path is validated: 500 files are checked, not whatever a body holds.
        if isinstance(value, dict) and len(value) > PACKAGE_MAX_FILES:
            raise ValueError(f"at most {PACKAGE_MAX_FILES} files")
        return value

    @field_validator("files")
    @classmethod
    def _a_package(cls, files: dict[str, str]) -> dict[str, str]:
        if not files:
            raise ValueError("no files")
        total = 0
        for text in files.values():
            try:
                total += len(text.encode("utf-8"))
            except UnicodeEncodeError:
                raise ValueError("every file must be valid UTF-8 text") from None
        if total > PACKAGE_MAX_BYTES:
            raise ValueError(f"the files hold at most {PACKAGE_MAX_BYTES // (1024 * 1024)} MiB")
        for path in files:
            parents = path.split("/")[:-1]
            for depth in range(1, len(parents) + 1):
                if "/".join(parents[:depth]) in files:
                    raise ValueError("a path is both a file and a folder")
        return files


class PackageCheck(BaseModel):
    """The static checks and the tests of one package: clean, findings, or inconclusive."""

    label: str
    verdict: Verdict
    reason: str | None = None  # why inconclusive: the checks that did not finish
    checks: list[CheckResult]
    source_digest: str | None = None  # of the files as checked (see scanners.source)
    duration_ms: float
