"""pytest's junit report, read as untrusted input: bounded, no DTD, no link or FIFO followed.

Each failed, errored or uncollectable test becomes a `high` finding of the `tests` check, named
`path::Class::test` with the first line of what went wrong, host paths cut out.
"""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from agora_vetting.scanners.adapters.base import OutputError, relative, short
from agora_vetting.scanners.models import Finding
from agora_vetting.scanners.sandbox import without_host_paths

TEST_ID_MAX_CHARS = 120
DETAIL_MAX_CHARS = 160
MAX_REPORT_BYTES = 8 * 1024 * 1024


@dataclass
class Report:
    passed: int
    skipped: int
    findings: list[Finding]


def read_report(path: Path | None) -> Report | None:
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
    return Report(passed, skipped, findings)


def _finding(case: ET.Element, outcome: ET.Element) -> Finding:
    path = _case_path(case.get("file", ""))
    test_id = short(
        _test_id(path, case.get("classname", ""), case.get("name", "")), TEST_ID_MAX_CHARS
    )
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


def first_names(findings: list[Finding]) -> str:
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
