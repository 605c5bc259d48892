"""The static scan: real scanners on a planted-unsafe agent and on Genesis, their caps, the
sandbox each runs in, the source digest, requirement collection and the verdict rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agora_vetting.scanners import Finding, ScannerResult, ScanScope, StaticScan, run_static_scan
from agora_vetting.scanners.adapters import PipAudit, Prepared
from agora_vetting.scanners.requirements import collect
from agora_vetting.scanners.sandbox import Completed, Limits, run_capped, scanner_env
from agora_vetting.scanners.source import copy_source, source_digest
from agora_vetting.scanners.tools import DEFAULT_SEMGREP_RULES, resolve_executable

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNSAFE = FIXTURES / "unsafe_agent"
GENESIS = REPO / "agents" / "genesis"
# The planted values (see the fixture's settings.py): none may appear in any output.
PLANTED = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SKIP = shutil.ignore_patterns("__pycache__", ".venv")


def _by_name(scan: StaticScan) -> dict[str, ScannerResult]:
    return {result.name: result for result in scan.results}


@pytest.fixture(scope="module")
async def unsafe_scan() -> StaticScan:
    return await run_static_scan(UNSAFE, timeout_s=180, memory_mb=1024, label="unsafe_agent")


# --- the real scanners ------------------------------------------------------------------------


@pytest.mark.integration
def test_the_unsafe_agent_is_found_out_by_every_scanner(unsafe_scan: StaticScan) -> None:
    results = _by_name(unsafe_scan)
    assert list(results) == ["bandit", "semgrep", "detect-secrets", "pip-audit", "tests"]
    for name in ("bandit", "semgrep", "detect-secrets"):
        assert results[name].status == "ok", results[name]
    assert all(result.version for result in unsafe_scan.results), unsafe_scan.results
    # It has no tests: nothing to run, and that alone spoils nothing.
    assert (results["tests"].status, results["tests"].reason) == ("skipped", "no tests")

    bandit = {(f.rule_id, f.path, f.line, f.severity) for f in results["bandit"].findings}
    assert ("B602", "agent.py", 14, "high") in bandit  # subprocess.run(user_input, shell=True)
    assert {"B307", "B506", "B501"} <= {rule for rule, *_ in bandit}

    semgrep = {(f.rule_id, f.path, f.line) for f in results["semgrep"].findings}
    assert ("agora.subprocess-shell-nonliteral", "agent.py", 14) in semgrep
    assert {
        "agora.eval-exec",
        "agora.yaml-unsafe-load",
        "agora.tls-verify-disabled",
    } <= {rule for rule, *_ in semgrep}

    secrets = {(f.rule_id, f.path, f.line) for f in results["detect-secrets"].findings}
    assert ("aws-access-key", "settings.py", 5) in secrets
    assert ("private-key", "settings.py", 8) in secrets

    verdict = unsafe_scan.verdict()
    assert verdict.verdict == "findings"
    assert verdict.serious_findings >= 8


@pytest.mark.integration
def test_the_dependency_audit_finds_advisories_or_says_why_it_could_not(
    unsafe_scan: StaticScan,
) -> None:
    audit = _by_name(unsafe_scan)["pip-audit"]
    if audit.status == "ok":
        # PyPI's vulnerability data answered: both old pins have published advisories.
        flagged = {f.message.split()[0] for f in audit.findings}
        assert {"requests", "pyyaml"} <= flagged, audit
        assert all(f.path == "requirements.txt" and f.line in (2, 3) for f in audit.findings)
        assert all(f.severity == "high" for f in audit.findings)
    else:
        # No answer from PyPI's vulnerability data (network, outage): inconclusive, with why.
        assert audit.status == "failed", audit
        assert audit.reason
        assert "requests" in audit.reason or "pyyaml" in audit.reason


@pytest.mark.integration
def test_no_secret_value_leaves_the_scan(unsafe_scan: StaticScan) -> None:
    dumped = unsafe_scan.model_dump_json()
    for value in PLANTED:
        assert value not in dumped
        assert value[4:-4] not in dumped
    assert "hashed_secret" not in dumped
    b105 = [f for f in _by_name(unsafe_scan)["bandit"].findings if f.rule_id == "B105"]
    assert b105
    assert all("value not shown" in f.message for f in b105)


@pytest.mark.integration
def test_the_scan_names_what_it_read(unsafe_scan: StaticScan) -> None:
    assert unsafe_scan.digest == source_digest(UNSAFE)
    assert unsafe_scan.scope.root == "unsafe_agent"
    assert unsafe_scan.scope.files == 3
    assert unsafe_scan.scope.scanners == [
        "bandit",
        "semgrep",
        "detect-secrets",
        "pip-audit",
        "tests",
    ]
    assert str(REPO) not in unsafe_scan.model_dump_json()


@pytest.mark.integration
async def test_genesis_comes_out_clean() -> None:
    scan = await run_static_scan(GENESIS, timeout_s=180, memory_mb=1024, label="agents/genesis")
    results = _by_name(scan)
    for name in ("bandit", "semgrep", "detect-secrets"):
        assert results[name].status == "ok", results[name]
        assert not [f for f in results[name].findings if f.serious], results[name]
    # Genesis depends on the platform's SDK only: nothing for pip-audit to ask PyPI about.
    audit = results["pip-audit"]
    assert audit.status == "ok", audit
    assert audit.reason == "no third-party requirements in pyproject.toml"
    # No tests inside the agent's folder: the tests check has nothing to run.
    assert (results["tests"].status, results["tests"].reason) == ("skipped", "no tests")
    assert scan.verdict().verdict == "clean", scan.verdict()
    assert scan.scope.root == "agents/genesis"


@pytest.mark.integration
async def test_the_agents_own_suppressions_do_not_count(tmp_path: Path) -> None:
    """# nosec, # nosemgrep, allowlist pragmas, .bandit and .semgrepignore files in the source
    silence nothing; nor does hiding the code in a tests/ folder."""
    source = tmp_path / "sneaky"
    (source / "tests").mkdir(parents=True)
    (source / "tests" / "helper.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n"
        "    return subprocess.run(cmd, shell=True)  # nosec # nosemgrep\n"
    )
    (source / "keys.py").write_text(
        "# Test fixture, not a real key.\n"
        'KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret\n'
    )
    (source / ".semgrepignore").write_text("*\n")
    (source / ".bandit").write_text("[bandit]\nexclude = tests\nskips = B602\n")
    scan = await run_static_scan(source, scanners=["bandit", "semgrep", "detect-secrets"])
    results = _by_name(scan)
    assert all(result.status == "ok" for result in scan.results), scan.results
    assert ("B602", "tests/helper.py") in {(f.rule_id, f.path) for f in results["bandit"].findings}
    assert "agora.subprocess-shell-nonliteral" in {f.rule_id for f in results["semgrep"].findings}
    assert ("aws-access-key", "keys.py") in {
        (f.rule_id, f.path) for f in results["detect-secrets"].findings
    }


@pytest.mark.integration
def test_the_semgrep_rules_pass_their_own_examples(tmp_path: Path) -> None:
    semgrep = resolve_executable("semgrep", "semgrep")
    assert semgrep is not None, "semgrep is not installed (tools/semgrep)"
    env = scanner_env(tmp_path, extra={"SEMGREP_ENABLE_VERSION_CHECK": "0"})
    completed = subprocess.run(
        [
            semgrep,
            "--test",
            "--metrics=off",
            "--disable-version-check",
            DEFAULT_SEMGREP_RULES.parent,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


# --- caps and missing tools ---------------------------------------------------------------------


@pytest.mark.integration
async def test_a_scanner_over_its_time_cap_is_a_timeout() -> None:
    started = time.monotonic()
    scan = await run_static_scan(UNSAFE, timeout_s=0.3, scanners=["semgrep"])
    (result,) = scan.results
    assert result.status == "timeout", result
    assert result.reason == "no answer within 0.3 s; killed"
    verdict = scan.verdict()
    assert verdict.verdict == "inconclusive"
    assert verdict.reason and verdict.reason.startswith("semgrep: timeout")
    # The scan itself did not wait for semgrep (its version probe may: once per process).
    assert result.duration_ms < 60_000
    assert time.monotonic() - started < 90


async def test_a_missing_scanner_is_unavailable(tmp_path: Path) -> None:
    scan = await run_static_scan(
        UNSAFE, scanners=["bandit"], executables={"bandit": tmp_path / "no-such-bandit"}
    )
    (result,) = scan.results
    assert result.status == "unavailable"
    assert result.reason and "bandit not found" in result.reason
    assert result.version is None
    assert scan.verdict().verdict == "inconclusive"


async def test_missing_semgrep_rules_make_semgrep_unavailable(tmp_path: Path) -> None:
    scan = await run_static_scan(
        UNSAFE,
        scanners=["semgrep"],
        semgrep_rules=tmp_path / "rules.yml",
        executables={"semgrep": sys.executable},
    )
    assert (scan.results[0].status, scan.results[0].reason) == (
        "unavailable",
        "semgrep rules not found",
    )


async def test_a_source_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_static_scan(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        await run_static_scan(tmp_path / "file")


# --- the sandbox ------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _dies_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_the_time_cap_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    completed = await run_capped(
        ["/bin/sh", "-c", script],
        cwd=tmp_path,
        env=scanner_env(tmp_path / "home"),
        limits=Limits(timeout_s=1.0, address_space_mb=256),
    )
    assert completed.timed_out
    assert completed.returncode is None
    child = int(pid_file.read_text())
    assert _dies_within(child, 5.0), "the scanner's child outlived the timeout"


async def test_the_memory_cap_stops_a_greedy_process(tmp_path: Path) -> None:
    completed = await run_capped(
        [sys.executable, "-c", "blob = bytearray(512 * 1024 * 1024)"],
        cwd=tmp_path,
        env=scanner_env(tmp_path / "home"),
        limits=Limits(timeout_s=30, address_space_mb=256),
    )
    assert completed.returncode not in (0, None)
    assert "MemoryError" in completed.stderr


async def test_the_output_cap_cuts_a_chatty_process(tmp_path: Path) -> None:
    completed = await run_capped(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"],
        cwd=tmp_path,
        env=scanner_env(tmp_path / "home"),
        limits=Limits(timeout_s=30, address_space_mb=256, max_output_bytes=1024 * 1024),
    )
    assert completed.output_exceeded
    assert not completed.timed_out
    assert len(completed.stdout) <= 1024 * 1024


async def test_a_scanner_sees_no_inherited_secrets(tmp_path: Path) -> None:
    host = {
        "PATH": os.environ["PATH"],
        "HOME": "/root",
        "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/sa.json",
        "AGORA_VETTING_LOCAL_TASK_CREDENTIAL": "hunter2",
        "AWS_SECRET_ACCESS_KEY": "nope",
        "HTTPS_PROXY": "http://proxy.invalid:3128",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    }
    home = tmp_path / "home"
    for online in (False, True):
        completed = await run_capped(
            [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
            cwd=tmp_path,
            env=scanner_env(home, environ=host, online=online),
            limits=Limits(timeout_s=30, address_space_mb=512),
        )
        seen = json.loads(completed.stdout)
        assert not [name for name in seen if name.startswith(("GOOGLE_", "AGORA_", "AWS_"))]
        assert seen["HOME"] == str(home)
        assert seen["PATH"] == os.environ["PATH"]
        assert seen["SSL_CERT_FILE"] == host["SSL_CERT_FILE"]
        assert ("HTTPS_PROXY" in seen) is online


# --- the digest -------------------------------------------------------------------------------


def test_the_digest_is_stable_and_follows_every_change(tmp_path: Path) -> None:
    source = tmp_path / "agent"
    shutil.copytree(UNSAFE, source, ignore=SKIP)
    first = source_digest(source)
    assert first == source_digest(source) == source_digest(UNSAFE)

    # Caches and virtualenvs are not source.
    for ignored in ("__pycache__", ".venv", "node_modules"):
        (source / ignored).mkdir()
        (source / ignored / "junk.pyc").write_bytes(b"\0junk")
    assert source_digest(source) == first

    # The copy a scan reads is digested as it is made, to the same digest.
    assert copy_source(source, tmp_path / "copy").digest == first
    assert not (tmp_path / "copy" / ".venv").exists()

    agent = source / "agent.py"
    original = agent.read_bytes()
    agent.write_bytes(original.replace(b"shell=True", b"shell=False"))
    changed = source_digest(source)
    assert changed != first
    agent.write_bytes(original)
    assert source_digest(source) == first

    agent.rename(source / "agent2.py")
    assert source_digest(source) != first
    (source / "agent2.py").rename(agent)
    (source / "empty.txt").write_bytes(b"")
    assert source_digest(source) != first


# --- requirements and pip-audit's output -------------------------------------------------------


def test_requirements_are_collected_with_their_place(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "requirements.txt").write_text(
        "# pins\n"
        "requests==2.19.0 \\\n"
        "    --hash=sha256:abc\n"
        "agora-agent-sdk\n"
        "-r extra/more.txt\n"
        "--extra-index-url https://packages.example.invalid/simple\n"
        "tool @ https://example.invalid/tool-1.0.tar.gz\n"
    )
    (tmp_path / "extra" / "more.txt").write_text("pyyaml>=5\n")
    plan = collect(tmp_path)
    assert [(r.name, r.requirement, r.pinned, r.path, r.line) for r in plan.requirements] == [
        ("requests", "requests==2.19.0", True, "requirements.txt", 2),
        ("pyyaml", "pyyaml>=5", False, "extra/more.txt", 1),
    ]
    assert plan.platform == ["agora-agent-sdk"]
    assert not plan.all_pinned
    assert {(f.rule_id, f.line, f.severity) for f in plan.findings} == {
        ("requirements-other-index", 6, "medium"),
        ("requirements-direct-reference", 7, "medium"),
    }
    assert plan.problems == []


def test_pyproject_dependencies_are_collected_and_problems_reported(tmp_path: Path) -> None:
    assert collect(GENESIS).requirements == []
    assert collect(GENESIS).platform == ["agora-agent-sdk"]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = [\n    "httpx==0.27.0",\n]\n'
    )
    (tmp_path / "requirements.txt").write_text("-r ../outside.txt\nnot a requirement!\n")
    plan = collect(tmp_path)
    assert [(r.name, r.path, r.line) for r in plan.requirements] == [("httpx", "pyproject.toml", 4)]
    assert len(plan.problems) == 2


def test_pip_audit_output_becomes_findings_at_the_declaring_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# old\nrequests==2.19.0\n")
    plan = collect(tmp_path)
    output = {
        "dependencies": [
            {
                "name": "requests",
                "version": "2.19.0",
                "vulns": [
                    {
                        "id": "PYSEC-2018-28",
                        "fix_versions": ["2.20.0"],
                        "aliases": ["GHSA-x84v-xcm2-53pg", "CVE-2018-18074"],
                    }
                ],
            },
            {"name": "urllib3", "version": "1.23", "vulns": [{"id": "GHSA-1", "aliases": []}]},
        ],
        "fixes": [],
    }
    completed = Completed(1, json.dumps(output).encode(), "", False, False, 1.0)
    parsed = PipAudit().parse(completed, Prepared(args=[], plan=plan))
    assert parsed.problems == []
    assert [(f.rule_id, f.path, f.line, f.severity) for f in parsed.findings] == [
        ("PYSEC-2018-28", "requirements.txt", 2, "high"),
        ("GHSA-1", "requirements.txt", None, "high"),
    ]
    assert parsed.findings[0].message == (
        "requests 2.19.0: PYSEC-2018-28 (CVE-2018-18074); fixed in 2.20.0"
    )
    assert "a dependency of a declared requirement" in parsed.findings[1].message

    skipped = {"dependencies": [{"name": "requests", "skip_reason": "not found"}]}
    completed = Completed(0, json.dumps(skipped).encode(), "", False, False, 1.0)
    parsed = PipAudit().parse(completed, Prepared(args=[], plan=plan))
    assert parsed.problems == ["could not audit 1 of 1: requests: not found"]


# --- the verdict rule -------------------------------------------------------------------------


def _scan(*results: ScannerResult) -> StaticScan:
    scope = ScanScope(scanners=[r.name for r in results], root="x", files=1, bytes=1)
    return StaticScan(scope=scope, digest="0" * 64, results=list(results))


def _finding(severity: str, rule_id: str = "B101") -> Finding:
    return Finding.model_validate(
        {
            "scanner": "bandit",
            "rule_id": rule_id,
            "severity": severity,
            "path": "a.py",
            "line": 1,
            "message": "m",
        }
    )


def test_low_findings_do_not_spoil_a_verdict() -> None:
    low = ScannerResult(name="bandit", status="ok", findings=[_finding("low")])
    assert _scan(low, ScannerResult(name="semgrep", status="ok")).verdict().verdict == "clean"


@pytest.mark.parametrize("severity", ["medium", "high", "critical"])
def test_medium_and_above_are_findings(severity: str) -> None:
    result = ScannerResult(name="bandit", status="ok", findings=[_finding(severity, "B602")])
    verdict = _scan(result).verdict()
    assert (verdict.verdict, verdict.reason, verdict.serious_findings) == ("findings", None, 1)


def test_an_unfinished_scanner_makes_it_inconclusive_unless_something_was_found() -> None:
    failed = ScannerResult(name="pip-audit", status="failed", reason="PyPI did not answer")
    clean = ScannerResult(name="bandit", status="ok", findings=[_finding("low")])
    verdict = _scan(clean, failed).verdict()
    assert verdict.verdict == "inconclusive"
    assert verdict.reason == "pip-audit: failed (PyPI did not answer)"

    dirty = ScannerResult(name="bandit", status="ok", findings=[_finding("high", "B602")])
    verdict = _scan(dirty, failed).verdict()
    assert (verdict.verdict, verdict.reason) == (
        "findings",
        "pip-audit: failed (PyPI did not answer)",
    )
    assert _scan().verdict().verdict == "inconclusive"
