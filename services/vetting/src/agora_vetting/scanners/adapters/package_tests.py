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
import sys
from dataclasses import dataclass
from pathlib import Path

from agora_vetting.scanners import testbox
from agora_vetting.scanners.adapters.base import (
    Adapter,
    OutputError,
    Parsed,
    Prepared,
    ScanContext,
    short,
)
from agora_vetting.scanners.adapters.junit_report import first_names, read_report
from agora_vetting.scanners.sandbox import (
    EXEC_FAILED_MARK,
    Completed,
)
from agora_vetting.scanners.source import IGNORED_DIRS
from agora_vetting.scanners.tools import env_override_name

MAX_FINDINGS = 50
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
        report = read_report(layout_report)
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
            problems.append(f"MemoryError in {len(greedy)} test(s): {first_names(greedy)}")
        if hoarding:
            cap = f"over the file cap ({MAX_FILE_MB} MiB a file)"
            problems.append(f"{cap} in {len(hoarding)} test(s): {first_names(hoarding)}")
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
