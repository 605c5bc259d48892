"""The tests check: a package's own tests, run for real by pytest in the box, on small packages
written here (never fixture folders on disk: this suite would collect their tests itself).

Hostile tests too: an endless loop, a fork bomb, a flood of output, children left behind (in the
process group and out of it), the network, the host's files and processes. Timing assertions
are loose: a loaded two-core machine is slow, never wrong.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from pathlib import Path

import pytest

from agora_vetting.scanners import ScannerResult, StaticScan, run_static_scan
from agora_vetting.scanners.adapters import OutputError, PackageTests, Prepared
from agora_vetting.scanners.adapters.package_tests import MAX_FINDINGS, has_tests
from agora_vetting.scanners.sandbox import Completed

REPO = Path(__file__).resolve().parents[2]


def package(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


async def run_tests(root: Path, *, timeout_s: float = 120, memory_mb: int = 1024) -> StaticScan:
    return await run_static_scan(
        root, scanners=["tests"], timeout_s=timeout_s, memory_mb=memory_mb, label=root.name
    )


def only(scan: StaticScan) -> ScannerResult:
    (result,) = scan.results
    return result


def processes_named(comm: str) -> list[int]:
    """Host processes whose name (`/proc/<pid>/comm`) is `comm`, zombies aside."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != comm:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def processes_with(argument: str) -> list[int]:
    """Host processes with `argument` among their command-line arguments."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in args:
            found.append(int(entry.name))
    return found


def gone_within(find: object, seconds: float) -> bool:
    assert callable(find)
    deadline = time.monotonic() + seconds
    while find():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


SET_NAME = """
import ctypes


def set_name(name):
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
"""

# --- outcomes ----------------------------------------------------------------------------------


async def test_passing_tests_are_ok_and_say_how_many(tmp_path: Path) -> None:
    """The package's src/ is on the path, and so is what the platform provides."""
    root = package(
        tmp_path / "adder",
        {
            "src/adder/__init__.py": "def add(a, b):\n    return a + b\n",
            "tests/test_add.py": (
                "import fastapi, httpx, pydantic, pytest\n"
                "import agora_agent_sdk\n"
                "from adder import add\n\n\n"
                "def test_add():\n    assert add(2, 3) == 5\n\n\n"
                "@pytest.mark.anyio\n"
                "async def test_async(tmp_path):\n"
                "    (tmp_path / 'x').write_text('ok')\n"
                "    assert add(1, 1) == 2\n\n\n"
                "@pytest.mark.skip(reason='later')\n"
                "def test_later():\n    pass\n"
            ),
        },
    )
    result = only(await run_tests(root))
    assert (result.status, result.reason) == ("ok", "2 passed, 1 skipped"), result
    assert result.findings == []
    assert result.version and result.version[0].isdigit()


async def test_each_failed_test_is_a_high_finding_naming_it(tmp_path: Path) -> None:
    root = package(
        tmp_path / "broken",
        {
            "src/broken/__init__.py": "def add(a, b):\n    return a - b\n",
            "tests/test_add.py": (
                "import pytest\nfrom broken import add\n\n\n"
                "def test_ok():\n    assert add(2, 0) == 2\n\n\n"
                "def test_add():\n    assert add(2, 3) == 5, f'wrong in {__file__}'\n\n\n"
                "class TestMore:\n"
                "    def test_negative(self):\n        assert add(-1, -1) == -2\n\n\n"
                "@pytest.fixture\ndef db():\n    raise RuntimeError('no database here')\n\n\n"
                "def test_with_db(db):\n    pass\n"
            ),
            # Not something the platform provides: the module cannot even be collected.
            "tests/test_numpy.py": "import numpy_not_provided\n\n\ndef test_x():\n    pass\n",
        },
    )
    result = only(await run_tests(root))
    assert result.status == "ok", result  # it ran to the end; the findings say the rest
    assert result.reason == "1 passed, 4 failed"
    found = {(f.rule_id, f.path, f.line, f.message.split(" ", 1)[0]) for f in result.findings}
    assert found == {
        ("test-failed", "tests/test_add.py", 9, "tests/test_add.py::test_add"),
        ("test-failed", "tests/test_add.py", 14, "tests/test_add.py::TestMore::test_negative"),
        ("test-error", "tests/test_add.py", 23, "tests/test_add.py::test_with_db"),
        ("collection-error", "tests/test_numpy.py", None, "tests/test_numpy.py"),
    }
    assert all(f.severity == "high" and f.scanner == "tests" for f in result.findings)
    messages = {f.message.split(" ", 1)[0]: f.message for f in result.findings}
    assert "AssertionError: wrong in …/test_add.py" in messages["tests/test_add.py::test_add"]
    assert "no database here" in messages["tests/test_add.py::test_with_db"]
    assert "numpy_not_provided" in messages["tests/test_numpy.py"]
    # Never a host path (the private copies live in the host's temporary folder).
    dumped = result.model_dump_json()
    assert str(tmp_path) not in dumped
    assert "agora-scan-" not in dumped


async def test_many_failures_are_capped_and_counted(tmp_path: Path) -> None:
    body = "".join(f"def test_{i}():\n    assert False, 'x' * 1000\n\n\n" for i in range(60))
    root = package(tmp_path / "many", {"tests/test_many.py": body})
    result = only(await run_tests(root))
    assert len(result.findings) == MAX_FINDINGS
    assert result.reason == f"0 passed, 60 failed ({60 - MAX_FINDINGS} more not listed)"
    assert all(len(f.message) <= 300 for f in result.findings)


async def test_a_package_without_tests_is_skipped_not_refused(tmp_path: Path) -> None:
    root = package(tmp_path / "plain", {"src/plain/__init__.py": "X = 1\n"})
    scan = await run_tests(root)
    assert (only(scan).status, only(scan).reason) == ("skipped", "no tests")
    assert scan.verdict().verdict == "clean"

    # A tests folder with nothing pytest collects: nothing ran either.
    package(root, {"tests/helpers.py": "def helper():\n    return 1\n"})
    result = only(await run_tests(root))
    assert (result.status, result.reason) == ("skipped", "no tests (pytest collected none)")


@pytest.mark.parametrize("agent", ["genesis", "quantflow"])
async def test_the_sample_agents_have_no_tests_to_run(agent: str) -> None:
    scan = await run_tests(REPO / "agents" / agent)
    assert (only(scan).status, only(scan).reason) == ("skipped", "no tests")


def test_what_counts_as_tests(tmp_path: Path) -> None:
    assert not has_tests(package(tmp_path / "a", {"src/a.py": "", "testing.py": ""}))
    assert has_tests(package(tmp_path / "b", {"test_b.py": ""}))
    assert has_tests(package(tmp_path / "c", {"src/c/c_test.py": ""}))
    assert has_tests(package(tmp_path / "d", {"test/conftest.py": ""}))
    assert not has_tests(package(tmp_path / "e", {"__pycache__/test_e.py": ""}))


def test_a_report_that_declares_a_dtd_is_refused(tmp_path: Path) -> None:
    """The report is written by the package's own process: it is read as untrusted XML."""
    (tmp_path / "package").mkdir()
    (tmp_path / "report.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
        '<testsuites><testsuite><testcase name="t" classname="x">&a;</testcase>'
        "</testsuite></testsuites>"
    )
    completed = Completed(0, b"", "", False, False, 1.0)
    with pytest.raises(OutputError, match="declares a DTD"):
        PackageTests().parse(completed, Prepared(args=[], cwd=tmp_path / "package"))


@pytest.mark.parametrize(
    ("swap", "reason"),
    [
        ("os.mkfifo(report)", "the test report is not a regular file"),
        ("os.symlink('/etc/hostname', report)", "unreadable test report"),
    ],
)
async def test_a_report_swapped_for_a_fifo_or_a_link_is_not_read(
    tmp_path: Path, swap: str, reason: str
) -> None:
    """The package's conftest replaces pytest's report once written: the check neither waits on
    a FIFO nor follows a link out of the box."""
    root = package(
        tmp_path / "swapper",
        {
            "tests/conftest.py": (
                "import os\n\n\ndef pytest_unconfigure(config):\n"
                "    report = config.option.xmlpath\n"
                f"    os.remove(report)\n    {swap}\n"
            ),
            "tests/test_fine.py": "def test_fine():\n    assert True\n",
        },
    )
    started = time.monotonic()
    result = only(await run_tests(root, timeout_s=60))
    assert result.status == "failed", result
    assert result.reason and result.reason.startswith(reason), result
    assert time.monotonic() - started < 45


# --- caps ---------------------------------------------------------------------------------------


async def test_an_endless_test_meets_the_wall_clock(tmp_path: Path) -> None:
    root = package(
        tmp_path / "endless",
        {"tests/test_loop.py": "def test_loop():\n    while True:\n        pass\n"},
    )
    started = time.monotonic()
    scan = await run_tests(root, timeout_s=3)
    result = only(scan)
    assert (result.status, result.reason) == ("timeout", "no answer within 3 s; killed")
    assert scan.verdict().verdict == "inconclusive"
    assert time.monotonic() - started < 60


async def test_a_flood_of_output_is_cut(tmp_path: Path) -> None:
    root = package(
        tmp_path / "chatty",
        {
            "tests/test_chatty.py": (
                "import sys\n\n\ndef test_chatty(capsys):\n"
                "    with capsys.disabled():\n"
                "        while True:\n            sys.stdout.write('x' * 65536)\n"
            )
        },
    )
    result = only(await run_tests(root, timeout_s=60))
    assert (result.status, result.reason) == ("failed", "output over 32 MiB; killed")


async def test_a_huge_file_is_cut_at_the_file_cap(tmp_path: Path) -> None:
    """Output pytest captures goes to a file: the file cap stops it, whatever writes it."""
    root = package(
        tmp_path / "hoarder",
        {
            "tests/test_hoard.py": (
                "def test_hoard():\n    while True:\n        print('y' * 65536)\n"
            )
        },
    )
    result = only(await run_tests(root, timeout_s=60))
    assert result.status == "failed", result
    assert (
        result.reason
        == "over the file cap (64 MiB a file) in 1 test(s): tests/test_hoard.py::test_hoard"
    )
    assert result.findings == []


async def test_a_greedy_test_meets_the_memory_cap(tmp_path: Path) -> None:
    root = package(
        tmp_path / "greedy",
        {
            "tests/test_greedy.py": (
                "def test_greedy():\n    blob = bytearray(2 * 1024 * 1024 * 1024)\n"
                "    assert blob\n\n\n"
                "def test_fine():\n    assert True\n"
            )
        },
    )
    scan = await run_tests(root, memory_mb=512)
    result = only(scan)
    assert result.status == "failed", result
    assert result.reason
    assert result.reason.startswith("over its memory cap (512 MiB address space)")
    assert "tests/test_greedy.py::test_greedy" in result.reason
    assert result.findings == []  # the cap is the sandbox's, not a bug of the package's
    assert scan.verdict().verdict == "inconclusive"


async def test_a_fork_bomb_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    name = f"fb-{secrets.token_hex(4)}"
    root = package(
        tmp_path / "bomb",
        {
            "tests/test_bomb.py": SET_NAME
            + (
                "import os, time\n\n\ndef test_bomb():\n"
                f"    set_name({name!r})\n"
                "    while True:\n"
                "        try:\n            os.fork()\n"
                "        except OSError:\n            time.sleep(0.01)\n"
            )
        },
    )
    started = time.monotonic()
    result = only(await run_tests(root, timeout_s=60))
    assert result.status == "failed", result
    assert result.reason == "over 64 processes; every process of the tests killed"
    assert time.monotonic() - started < 45
    assert gone_within(lambda: processes_named(name), 5), "fork bomb processes outlived the check"


async def test_children_left_behind_die_with_the_tests(tmp_path: Path) -> None:
    """In the process group or out of it (a new session, a double fork), every process the
    tests started dies when they end; the check does not wait for them."""
    marks = [f"{1000 + secrets.randbelow(10**6)}.{i}" for i in range(3)]
    root = package(
        tmp_path / "leaver",
        {
            "tests/test_leave.py": (
                "import os, subprocess\n\n\ndef test_leave():\n"
                f"    assert os.system('sleep {marks[0]} &') == 0\n"
                f"    subprocess.Popen(['sleep', '{marks[1]}'], start_new_session=True)\n"
                "    if os.fork() == 0:\n"
                "        os.setsid()\n"
                "        if os.fork() == 0:\n"
                f"            os.execvp('sleep', ['sleep', '{marks[2]}'])\n"
                "        os._exit(0)\n"
            )
        },
    )
    started = time.monotonic()
    result = only(await run_tests(root))
    assert (result.status, result.reason) == ("ok", "1 passed"), result
    assert time.monotonic() - started < 60
    for mark in marks:
        assert gone_within(lambda m=mark: processes_with(m), 5), f"sleep {mark} outlived the tests"


# --- isolation ---------------------------------------------------------------------------------


async def test_the_tests_reach_no_network_and_no_host_process_or_file(tmp_path: Path) -> None:
    """A listener on the host's loopback is not theirs to reach (their loopback is their own);
    nor is the metadata server, DNS, the host's processes or its files."""
    outside = tmp_path / "outside"
    outside.mkdir()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        root = package(
            tmp_path / "nosy",
            {
                "tests/test_nosy.py": (
                    "import os, socket\nimport pytest\n\n\n"
                    "def test_host_loopback():\n"
                    "    with pytest.raises(OSError):\n"
                    f"        socket.create_connection(('127.0.0.1', {port}), timeout=5)\n\n\n"
                    "def test_own_loopback():\n"
                    "    with socket.socket() as server:\n"
                    "        server.bind(('127.0.0.1', 0))\n        server.listen()\n"
                    "        address = server.getsockname()\n"
                    "        socket.create_connection(address, timeout=5).close()\n\n\n"
                    "def test_metadata_server_and_dns():\n"
                    "    with pytest.raises(OSError):\n"
                    "        socket.create_connection(('169.254.169.254', 80), timeout=5)\n"
                    "    with pytest.raises(OSError):\n"
                    "        socket.getaddrinfo('pypi.org', 443)\n\n\n"
                    "def test_host_processes():\n"
                    f"    assert not os.path.exists('/proc/{os.getpid()}')\n"
                    "    assert len([p for p in os.listdir('/proc') if p.isdigit()]) < 10\n\n\n"
                    "def test_host_files():\n"
                    "    with pytest.raises(OSError):\n"
                    f"        open({str(outside / 'planted')!r}, 'w')\n"
                    "    with pytest.raises(OSError):\n"
                    "        open('/tmp/agora-escaped', 'w')\n\n\n"
                    "def test_environment():\n"
                    "    names = [n for n in os.environ if n.startswith(('AGORA_', 'GOOGLE_'))]\n"
                    "    assert not names\n"
                    "    assert os.environ['HOME'].endswith('/home')\n"
                    "    assert os.getuid() != 0\n"
                ),
            },
        )
        result = only(await run_tests(root))
    assert (result.status, result.reason) == ("ok", "6 passed"), json.dumps(
        [f.message for f in result.findings], indent=1
    )
    assert not (outside / "planted").exists()
