"""What the dependency audit (pip-audit) checks: the agent's declared third-party requirements.

Read from the source root: `requirements.txt` (following `-r` includes inside the source) and
the `[project] dependencies` of `pyproject.toml`. pip-audit never sees the agent's files
themselves, only a requirements file written from what was parsed here, so nothing in them
(index URLs, options, local paths) reaches pip:

- the platform's own packages (`PLATFORM_PACKAGES`: the agent SDK, provided by the platform and
  not on PyPI) are left out; auditing them against PyPI would ask about someone else's package;
- direct references (`name @ URL`, VCS, archives, paths) and other-index options are not
  auditable against PyPI: each is a finding (medium: where the code comes from is not PyPI's
  record), and is left out;
- what cannot be read (a malformed line, invalid TOML, dynamic dependencies, a missing include)
  is a problem: the audit cannot vouch for the dependencies, so the scanner is `failed`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from agora_vetting.scanners.models import Finding, Severity

PLATFORM_PACKAGES = frozenset({"agora-agent-sdk", "agora-common"})
REQUIREMENTS_FILE = "requirements.txt"
PYPROJECT_FILE = "pyproject.toml"
MAX_INCLUDE_DEPTH = 5

_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^-\s]))(?P<path>\S+)$")
_IGNORED_OPTIONS = frozenset(
    {
        "-c",
        "--constraint",
        "--hash",
        "--pre",
        "--prefer-binary",
        "--only-binary",
        "--no-binary",
        "--require-hashes",
        "--use-feature",
        "--no-index",
    }
)
_ORIGIN_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")
_INLINE_OPTION = re.compile(r"\s+--?[a-z][a-z-]*(?:[=\s]\S+)?")


@dataclass(frozen=True)
class Declared:
    """One requirement to audit, and where the agent declared it."""

    name: str  # canonical
    requirement: str  # as written to pip-audit's requirements file
    pinned: bool  # exactly one `==`/`===` version (no wildcard)
    path: str
    line: int | None


@dataclass
class AuditPlan:
    requirements: list[Declared] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the files read
    platform: list[str] = field(default_factory=list)  # platform packages left out

    @property
    def all_pinned(self) -> bool:
        return all(r.pinned for r in self.requirements)

    def requirements_txt(self) -> str:
        return "".join(f"{r.requirement}\n" for r in self.requirements)

    def declared(self, name: str) -> Declared | None:
        wanted = canonicalize_name(name)
        return next((r for r in self.requirements if r.name == wanted), None)


def collect(root: Path, platform_packages: frozenset[str] = PLATFORM_PACKAGES) -> AuditPlan:
    plan = AuditPlan()
    if (root / REQUIREMENTS_FILE).is_file():
        _read_requirements(root, PurePosixPath(REQUIREMENTS_FILE), plan, platform_packages, ())
    if (root / PYPROJECT_FILE).is_file():
        _read_pyproject(root, plan, platform_packages)
    return plan


def _read_requirements(
    root: Path,
    relative: PurePosixPath,
    plan: AuditPlan,
    platform: frozenset[str],
    seen: tuple[PurePosixPath, ...],
) -> None:
    path = str(relative)
    plan.sources.append(path)
    try:
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        plan.problems.append(f"{path}: unreadable ({exc.strerror})")
        return
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            _option(root, relative, number, line, plan, platform, seen)
            continue
        requirement = _INLINE_OPTION.sub("", line).strip()  # e.g. trailing --hash=sha256:...
        _add(requirement, path, number, plan, platform)


def _option(
    root: Path,
    relative: PurePosixPath,
    number: int,
    line: str,
    plan: AuditPlan,
    platform: frozenset[str],
    seen: tuple[PurePosixPath, ...],
) -> None:
    path = str(relative)
    if include := _INCLUDE.match(line):
        target = PurePosixPath(_normalise(relative.parent / include["path"]))
        if target.parts[:1] == ("..",) or target.is_absolute():
            plan.problems.append(f"{path}:{number}: includes a file outside the source")
        elif target in seen or len(seen) >= MAX_INCLUDE_DEPTH:
            plan.problems.append(f"{path}:{number}: includes nest too deep or loop")
        elif not (root / target).is_file():
            plan.problems.append(f"{path}:{number}: includes {target}, which is not in the source")
        else:
            _read_requirements(root, target, plan, platform, (*seen, relative))
        return
    option = line.split("=", 1)[0].split()[0]
    if option in ("-e", "--editable"):
        editable = re.split(r"[=\s]", line, maxsplit=1)[-1].strip()
        if "://" in editable or editable.startswith(("git+", "hg+", "svn+", "bzr+")):
            plan.findings.append(_reference(path, number, "an editable package from a URL"))
        elif editable not in (".", "./"):
            message = f"local package {editable[:60]}: its own dependencies are not audited"
            plan.findings.append(_note("requirements-local-package", "low", path, number, message))
    elif option in _ORIGIN_OPTIONS:
        plan.findings.append(
            _note(
                "requirements-other-index",
                "medium",
                path,
                number,
                f"{option}: packages may come from somewhere other than PyPI; the audit checks "
                "names against PyPI's advisories only",
            )
        )
    elif option not in _IGNORED_OPTIONS:
        message = f"option {option[:40]} ignored by the audit"
        plan.findings.append(_note("requirements-option", "low", path, number, message))


def _add(
    text: str,
    path: str,
    line: int | None,
    plan: AuditPlan,
    platform: frozenset[str],
) -> None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        if _looks_like_reference(text):
            plan.findings.append(_reference(path, line, "a path or URL"))
        else:
            plan.problems.append(f"{path}:{line}: not a requirement: {text[:60]!r}")
        return
    name = canonicalize_name(requirement.name)
    if name in platform:
        plan.platform.append(name)
        return
    if requirement.url:
        plan.findings.append(_reference(path, line, f"{name} from a URL or path"))
        return
    specifiers = list(requirement.specifier)
    pinned = (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in specifiers[0].version
    )
    plan.requirements.append(
        Declared(name=name, requirement=str(requirement), pinned=pinned, path=path, line=line)
    )


def _read_pyproject(root: Path, plan: AuditPlan, platform: frozenset[str]) -> None:
    plan.sources.append(PYPROJECT_FILE)
    try:
        text = (root / PYPROJECT_FILE).read_text(encoding="utf-8")
        project = tomllib.loads(text).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        plan.problems.append(f"{PYPROJECT_FILE}: unreadable ({type(exc).__name__})")
        return
    if not isinstance(project, dict):
        plan.problems.append(f"{PYPROJECT_FILE}: [project] is not a table")
        return
    if "dependencies" in project.get("dynamic", []):
        plan.problems.append(f"{PYPROJECT_FILE}: dependencies are dynamic, not declared")
        return
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        plan.problems.append(f"{PYPROJECT_FILE}: [project] dependencies is not a list of strings")
        return
    lines = text.splitlines()
    for dependency in dependencies:
        quoted = (f'"{dependency}"', f"'{dependency}'")
        where = (n for n, line in enumerate(lines, 1) if any(q in line for q in quoted))
        _add(dependency, PYPROJECT_FILE, next(where, None), plan, platform)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, content) of each non-empty line, continuations joined, comments cut."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        line = re.sub(r"(^|\s)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            out.append((start, line))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append(part)
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or "."


def _looks_like_reference(text: str) -> bool:
    return bool(re.match(r"^([a-z][a-z0-9+.-]*://|\.{0,2}/|[\w.-]+\.(whl|zip|tar\.gz|tgz)$)", text))


def _reference(path: str, line: int | None, what: str) -> Finding:
    return _note(
        "requirements-direct-reference",
        "medium",
        path,
        line,
        f"installs {what}, not a PyPI release: not audited for known vulnerabilities",
    )


def _note(rule_id: str, severity: Severity, path: str, line: int | None, message: str) -> Finding:
    return Finding(
        scanner="pip-audit",
        rule_id=rule_id,
        severity=severity,
        path=path,
        line=line,
        message=message,
    )
