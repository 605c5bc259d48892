"""tests: the package's own tests, run with pytest in the sandbox (`testbox`).

A source with tests (a `tests/` or `test/` folder, or `test_*.py` / `*_test.py` files) gets
them run by this very interpreter (`sys.executable`): a package may depend only on what the
platform provides (the agent SDK, pydantic, httpx, fastapi), which is what is installed here.
They run on a copy of their own (they may write to it; the other scanners read theirs), with
`PYTHONPATH=<copy>/src`, HOME and TMPDIR in the box, no third-party pytest plugin but anyio's
(async tests: `@pytest.mark.anyio`), and under the scanners' caps plus the box's namespaces.

Outcomes: every test passed → ok (the reason says how many); a failed test, an error in a
fixture or a module that cannot be collected → a `high` finding each, naming the test (at most
`MAX_FINDINGS`, the rest counted in the reason); no tests → skipped, "no tests"; pytest's own
trouble (a usage error, no report) → failed; the box cannot be set up → unavailable; the caps →
timeout, or failed (memory, output, processes, file size). A tests folder in which pytest
collects nothing is skipped too ("no tests (pytest collected none)").

What the tests print is the package's: messages are cut short and host paths cut out, and the
report is read as untrusted XML. Passing tests show a package works as its author meant; they
prove nothing about its safety (a hostile package can fake its report): the static scanners
are for that.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import stat
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from agora_vetting.scanners import testbox
from agora_vetting.scanners.adapters.base import (
    Adapter,
    OutputError,
    Parsed,
    Prepared,
    ScanContext,
    relative,
    short,
)
from agora_vetting.scanners.models import Finding
from agora_vetting.scanners.sandbox import (
    EXEC_FAILED_MARK,
    Completed,
    without_host_paths,
)
from agora_vetting.scanners.source import IGNORED_DIRS
from agora_vetting.scanners.tools import env_override_name

MAX_FINDINGS = 50
TEST_ID_MAX_CHARS = 120
DETAIL_MAX_CHARS = 160
MAX_REPORT_BYTES = 8 * 1024 * 1024
# The box's caps (see `testbox`): processes in its namespace; processes and threads of its user
# (where the kernel counts them); the size of any one file written.
MAX_PROCESSES = 64
MAX_THREADS = 512
MAX_FILE_MB = 64

TEST_DIRS = frozenset({"tests", "test"})
REPORT = "report.xml"
# How a test that met the box's memory or file cap fails (Python ignores SIGXFSZ: the write
# fails instead).
_MEMORY_ERROR = ": MemoryError"
_FILE_TOO_LARGE = "[Errno 27] File too large"
# pytest's exit statuses.
_PASSED, _FAILED, _INTERRUPTED, _INTERNAL, _USAGE, _NO_TESTS = 0, 1, 2, 3, 4, 5

assert testbox.EXEC_FAILED_MARK == EXEC_FAILED_MARK


@dataclass(frozen=True)
class _Layout:
    """The tests' own folder in the scanner's scratch space: all they may write."""

    box: Path  # bind-mounted writable in the box
    package: Path  # their copy of the source: the working directory
    home: Path
    tmp: Path
    report: Path

    @classmethod
    def of(cls, ctx: ScanContext) -> _Layout:
        box = ctx.work / "box"
        return cls(box, box / "package", box / "home", box / "tmp", box / REPORT)


class PackageTests(Adapter):
    name = "tests"
    executable = "python"
    ok_exit_codes = frozenset({_PASSED, _FAILED, _INTERRUPTED, _NO_TESTS})
    # Asked outside the box: -I (nothing of the package on the path) and no pytest run (which
    # would load configuration and conftest files from its working folder).
    version_args = ("-I", "-c", "import pytest; print(pytest.__version__)")

    def locate(self, override: str | Path | None) -> Path | None:
        explicit = override if override is not None else os.environ.get(env_override_name("tests"))
        path = Path(explicit) if explicit else Path(sys.executable)
        path = path.absolute()
        return path if path.is_file() and os.access(path, os.X_OK) else None

    def unavailable(self) -> str | None:
        if not sys.platform.startswith("linux"):
            return "the tests run in Linux namespaces; this is not Linux"
        if importlib.util.find_spec("pytest") is None:
            return "pytest is not installed in the service's environment"
        return None

    def env(self, ctx: ScanContext) -> dict[str, str]:
        layout = _Layout.of(ctx)
        return {
            "HOME": str(layout.home),
            "TMPDIR": str(layout.tmp),
            "PYTHONPATH": str(layout.package / "src"),
            "PYTHONNOUSERSITE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }

    def prepare(self, ctx: ScanContext) -> Prepared:
        if not has_tests(ctx.src):
            return Prepared(args=None, skipped=True, note="no tests")
        layout = _Layout.of(ctx)
        shutil.copytree(ctx.src, layout.package, symlinks=True)
        for folder in (layout.home, layout.tmp):
            folder.mkdir(parents=True)
        # An empty configuration beside the copy: a package without its own never picks one up
        # from a folder above it.
        (layout.box / "pytest.ini").write_text("[pytest]\n")
        pytest_args = [
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "-rN",
            "--tb=short",
            "--show-capture=no",
            "-p",
            "no:cacheprovider",
            "-p",
            "anyio.pytest_plugin",
            "--rootdir=.",
            "--continue-on-collection-errors",
            "-o",
            "junit_family=xunit1",
            f"--junitxml={layout.report}",
        ]
        box = [
            "-I",
            "-S",
            str(Path(testbox.__file__).resolve()),
            f"--writable={layout.box}",
            f"--max-processes={MAX_PROCESSES}",
            f"--max-threads={MAX_THREADS}",
            f"--max-file-mb={MAX_FILE_MB}",
            "--",
            str(ctx.executable),
            *pytest_args,
        ]
        return Prepared(args=box, cwd=layout.package)

    def parse(self, completed: Completed, prepared: Prepared) -> Parsed:
        code = completed.returncode
        layout_report = prepared.cwd.parent / REPORT if prepared.cwd is not None else None
        notes = _sandbox_notes(completed.stderr)
        if code == testbox.OVER_PROCESSES and testbox.MARK in completed.stderr:
            killed = f"over {MAX_PROCESSES} processes; every process of the tests killed"
            return Parsed([], [killed])
        if code is not None and code > 128:
            return Parsed([], [_killed(code - 128, completed)])
        if code in (_INTERNAL, _USAGE) or code not in self.ok_exit_codes:
            raise OutputError(f"pytest exit status {code}: {completed.stderr_tail()}")
        if code == _NO_TESTS:
            return Parsed([], note=_joined("no tests (pytest collected none)", notes), skipped=True)
        report = _read_report(layout_report)
        if report is None:
            raise OutputError(f"pytest wrote no report (exit status {code})")
        if code == _PASSED and report.findings:
            raise OutputError("pytest reported success but its report lists failures")
        if code != _PASSED and not report.findings:
            raise OutputError(f"pytest exit status {code}, but no failed test in its report")
        # A test that ran out of memory or met the file cap met the sandbox's limits, not
        # necessarily a bug of its own: that makes the check unfinished, not a finding.
        greedy = [f for f in report.findings if _MEMORY_ERROR in f.message]
        hoarding = [f for f in report.findings if _FILE_TOO_LARGE in f.message]
        failed = [f for f in report.findings if f not in greedy and f not in hoarding]
        note = f"{report.passed} passed"
        if report.skipped:
            note += f", {report.skipped} skipped"
        if failed:
            note += f", {len(failed)} failed"
        if len(failed) > MAX_FINDINGS:
            note += f" ({len(failed) - MAX_FINDINGS} more not listed)"
        problems = []
        if greedy:  # the runner adds which memory cap
            problems.append(f"MemoryError in {len(greedy)} test(s): {_names(greedy)}")
        if hoarding:
            cap = f"over the file cap ({MAX_FILE_MB} MiB a file)"
            problems.append(f"{cap} in {len(hoarding)} test(s): {_names(hoarding)}")
        return Parsed(failed[:MAX_FINDINGS], problems, note=_joined(note, notes))


def has_tests(root: Path) -> bool:
    """Whether the source holds tests: a tests/ or test/ folder, or test_*.py / *_test.py."""
    for _, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS]
        if TEST_DIRS & set(dirnames):
            return True
        if any(_is_test_file(name) for name in filenames):
            return True
    return False


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


@dataclass
class _Report:
    passed: int
    skipped: int
    findings: list[Finding]


def _read_report(path: Path | None) -> _Report | None:
    """The junit report, read as what the package's own process could make of it: a link
    (not followed), a FIFO (never waited on), a device or a huge file."""
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"unreadable test report ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputError("the test report is not a regular file")
        data = handle.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        raise OutputError(f"the test report is over {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
    # pytest writes no DTD: one in the report is not pytest's (nor are its entities read).
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise OutputError("the test report is not pytest's (it declares a DTD)")
    try:
        root = ET.fromstring(data)  # noqa: S314 (see above)
    except ET.ParseError as exc:
        raise OutputError(f"unreadable test report ({exc})") from exc
    passed = skipped = 0
    findings: list[Finding] = []
    for case in root.iter("testcase"):
        outcome = next((c for c in case if c.tag in ("failure", "error")), None)
        if outcome is None:
            if any(c.tag == "skipped" for c in case):
                skipped += 1
            else:
                passed += 1
            continue
        findings.append(_finding(case, outcome))
    return _Report(passed, skipped, findings)


def _finding(case: ET.Element, outcome: ET.Element) -> Finding:
    path = _case_path(case.get("file", ""))
    test_id = short(_test_id(path, case.get("classname", ""), case.get("name", "")), 120)
    message = outcome.get("message", "")
    collection = outcome.tag == "error" and message == "collection failure"
    detail = _detail(message, outcome.text or "")
    if collection:
        rule, what = "collection-error", "cannot be collected"
    elif outcome.tag == "error":
        rule, what = "test-error", "errored"
    else:
        rule, what = "test-failed", "failed"
    line = case.get("line")
    return Finding(
        scanner="tests",
        rule_id=rule,
        severity="high",
        path=path,
        line=int(line) + 1 if line and line.isdigit() and not collection else None,
        message=short(f"{test_id} {what}" + (f": {detail}" if detail else "")),
    )


def _names(findings: list[Finding]) -> str:
    return ", ".join(f.message.split(" ", 1)[0] for f in findings[:3])


def _case_path(file: str) -> str:
    path = relative(file)
    if file.startswith("/") or ".." in path.split("/"):
        return "."
    return path


def _test_id(path: str, classname: str, name: str) -> str:
    """`tests/test_a.py::TestK::test_m` from the report's file, class name and name."""
    if not classname:  # a module that could not be collected
        return path
    module = path[:-3].replace("/", ".") if path.endswith(".py") else ""
    inner = classname[len(module) + 1 :] if module and classname.startswith(module + ".") else ""
    parts = [path if path != "." else classname, *([inner] if inner else []), name]
    return "::".join(parts)


def _detail(message: str, text: str) -> str:
    """The first line of what went wrong; for a generic message, the traceback's `E` line."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if not first or first == "collection failure":
        marked = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
        first = marked[-1] if marked else first
    return short(without_host_paths(first), DETAIL_MAX_CHARS)


def _killed(number: int, completed: Completed) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGXFSZ:
        return f"killed by {name}: a file over {MAX_FILE_MB} MiB"
    tail = completed.stderr_tail()
    return f"killed by {name}" + (f": {tail}" if tail else "")


def _sandbox_notes(stderr: str) -> list[str]:
    """What the box could not apply here (best-effort parts), from its own lines."""
    notes = []
    for line in stderr.splitlines():
        if line.startswith(testbox.NOT_APPLIED):
            notes.append(line[len(testbox.NOT_APPLIED) :].strip())
    return notes[:3]


def _joined(note: str, sandbox: list[str]) -> str:
    if not sandbox:
        return note
    return short(f"{note}; sandbox without: {', '.join(sandbox)}")
