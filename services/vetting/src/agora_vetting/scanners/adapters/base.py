"""What every scanner adapter shares: its context, its plan, its parsed output, text helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from agora_vetting.scanners import requirements
from agora_vetting.scanners.models import MESSAGE_MAX_CHARS, Finding, ScannerName
from agora_vetting.scanners.sandbox import Completed
from agora_vetting.scanners.tools import resolve_executable

_M = TypeVar("_M", bound=BaseModel)


class OutputError(Exception):
    """The scanner's output is not what it documents."""


@dataclass(frozen=True)
class ScanContext:
    src: Path  # the private copy of the source: the scanners' working directory
    work: Path  # this scanner's own scratch folder (never scanned)
    memory_mb: int
    semgrep_rules: Path
    platform_packages: frozenset[str]
    executable: Path  # the scanner's own, as found (see `Adapter.locate`)


@dataclass
class Prepared:
    """What to run. `args` None: nothing to run; the result is ok (`note` says why) unless
    `problems`, or `skipped` (the check does not apply; `note` says why).

    `cwd`: where to run it, when not in the shared copy of the source (`ScanContext.src`).
    """

    args: list[str] | None
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    skipped: bool = False
    plan: requirements.AuditPlan | None = None
    cwd: Path | None = None


@dataclass
class Parsed:
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)
    note: str | None = None  # when it finished: the result's reason (e.g. how many tests passed)
    skipped: bool = False  # it ran, but found nothing the check applies to (`note` says why)


class Adapter:
    name: ClassVar[ScannerName]
    executable: ClassVar[str]
    online: ClassVar[bool] = False  # may reach the network (gets the host's proxy settings)
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})
    # How to ask the executable for its version (the first dotted number of what it prints).
    version_args: ClassVar[tuple[str, ...]] = ("--version",)

    def locate(self, override: str | Path | None) -> Path | None:
        """The executable to run, or None when it is not installed (see `tools`)."""
        return resolve_executable(self.name, self.executable, override)

    def unavailable(self) -> str | None:
        """Why this check cannot run here, beyond a missing executable (asked once `prepare`
        found something to run)."""
        return None

    def address_space_mb(self, memory_mb: int) -> int:
        return memory_mb

    def env(self, ctx: ScanContext) -> dict[str, str]:
        return {}

    def prepare(self, ctx: ScanContext) -> Prepared:
        raise NotImplementedError

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        raise NotImplementedError

    def _report(self, model: type[_M], completed: Completed) -> _M:
        if completed.returncode not in self.ok_exit_codes:
            raise OutputError(f"exit status {completed.returncode}: {completed.stderr_tail()}")
        try:
            return model.model_validate_json(completed.stdout)
        except ValidationError as exc:
            detail = completed.stderr_tail() or f"{exc.error_count()} validation errors"
            raise OutputError(f"unreadable output ({detail})") from exc


def relative(path: str) -> str:
    """A scanner's path (relative to the copy, where it ran) as a clean relative "/"-path."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    return "/".join(parts) or "."


def short(text: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unquote(text: str) -> str:
    """The text without the quoted values in it."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "(value not shown)", text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
