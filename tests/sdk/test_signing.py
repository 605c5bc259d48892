"""The v1 call signature: one accepted call, and each way a call is refused."""

from __future__ import annotations

import ast
import hashlib
import hmac
import sys
import time
from pathlib import Path

import pytest

import agora_agent_sdk.signing as signing
from agora_agent_sdk import ReplayGuard, SignatureError, compute_signature, sign_request
from agora_agent_sdk.replay import ReplayGuardFull
from agora_agent_sdk.signing import TOLERANCE_SECONDS, check_headers, verify_request
from tests.sdk.factories import HASH_ID, SECRET

NOW = 1_750_000_000
BODY = b'{"tool_name":"echo","payload":{},"context":{"execution_id":"e1"}}'


def _signed(**overrides: str) -> dict[str, str]:
    return sign_request(SECRET, HASH_ID, BODY, NOW) | overrides


def _refusal(headers: dict[str, str], body: bytes = BODY, secret: str = SECRET) -> str:
    with pytest.raises(SignatureError) as caught:
        verify_request(headers, body, secret=secret, hash_id=HASH_ID, now=NOW)
    return caught.value.code


def test_sign_request_follows_the_documented_scheme() -> None:
    headers = sign_request(SECRET, HASH_ID, BODY, NOW)
    message = b"v1:" + str(NOW).encode() + b":" + HASH_ID.encode() + b":" + BODY
    expected = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert headers == {
        "X-Agent-Auth": f"agent_{HASH_ID}",
        "X-Agora-Timestamp": str(NOW),
        "X-Agora-Signature": f"v1={expected}",
    }
    assert compute_signature(SECRET.encode(), HASH_ID, BODY, NOW) == expected


def test_sign_request_defaults_to_now() -> None:
    before = int(time.time())
    timestamp = int(sign_request(SECRET, HASH_ID, BODY)["X-Agora-Timestamp"])
    assert before <= timestamp <= int(time.time())


def test_a_correctly_signed_call_is_accepted_with_any_header_case() -> None:
    lower = {k.lower(): v for k, v in _signed().items()}
    signed = verify_request(lower, BODY, secret=SECRET, hash_id=HASH_ID, now=NOW)
    assert signed.timestamp == NOW


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS, 0, TOLERANCE_SECONDS])
def test_timestamps_within_the_window_are_accepted(offset: int) -> None:
    headers = sign_request(SECRET, HASH_ID, BODY, NOW + offset)
    verify_request(headers, BODY, secret=SECRET, hash_id=HASH_ID, now=NOW)


@pytest.mark.parametrize(
    ("case", "headers", "code"),
    [
        ("no agent header", {"X-Agent-Auth": None}, "MISSING_SIGNATURE"),
        ("no timestamp", {"X-Agora-Timestamp": None}, "MISSING_SIGNATURE"),
        ("no signature", {"X-Agora-Signature": None}, "MISSING_SIGNATURE"),
        ("another agent", {"X-Agent-Auth": "agent_someone-else"}, "WRONG_AGENT"),
        ("bare hash id", {"X-Agent-Auth": HASH_ID}, "WRONG_AGENT"),
        ("non-ascii agent", {"X-Agent-Auth": "agent_é"}, "WRONG_AGENT"),
        ("decimal timestamp", {"X-Agora-Timestamp": f"{NOW}.5"}, "BAD_TIMESTAMP"),
        ("negative timestamp", {"X-Agora-Timestamp": "-5"}, "BAD_TIMESTAMP"),
        ("text timestamp", {"X-Agora-Timestamp": "yesterday"}, "BAD_TIMESTAMP"),
        (
            "stale timestamp",
            {"X-Agora-Timestamp": str(NOW - TOLERANCE_SECONDS - 1)},
            "STALE_TIMESTAMP",
        ),
        (
            "future timestamp",
            {"X-Agora-Timestamp": str(NOW + TOLERANCE_SECONDS + 1)},
            "STALE_TIMESTAMP",
        ),
        ("no version", {"X-Agora-Signature": "0" * 64}, "BAD_SIGNATURE"),
        ("other version", {"X-Agora-Signature": "v2=" + "0" * 64}, "BAD_SIGNATURE"),
        ("short hex", {"X-Agora-Signature": "v1=abc"}, "BAD_SIGNATURE"),
        ("not hex", {"X-Agora-Signature": "v1=" + "z" * 64}, "BAD_SIGNATURE"),
        ("wrong hex", {"X-Agora-Signature": "v1=" + "0" * 64}, "BAD_SIGNATURE"),
    ],
)
def test_refusals(case: str, headers: dict[str, str | None], code: str) -> None:
    sent = {k: v for k, v in (_signed() | headers).items() if v is not None}
    assert _refusal(sent) == code, case


def test_a_timestamp_changed_after_signing_is_refused() -> None:
    assert _refusal(_signed(**{"X-Agora-Timestamp": str(NOW - 1)})) == "BAD_SIGNATURE"


def test_a_tampered_body_is_refused() -> None:
    assert _refusal(_signed(), body=BODY.replace(b"echo", b"ech0")) == "BAD_SIGNATURE"


def test_another_secret_is_refused() -> None:
    assert _refusal(_signed(), secret=SECRET + "x") == "BAD_SIGNATURE"


def test_the_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    verify_request(_signed(), BODY, secret=SECRET, hash_id=HASH_ID, now=NOW)
    assert len(compared) == 2, "agent header and signature both go through compare_digest"


def test_header_checks_need_no_body() -> None:
    signed = check_headers(_signed(), HASH_ID, now=NOW)
    assert signed.timestamp == NOW and len(signed.signature) == 64


@pytest.mark.parametrize(
    ("secret", "hash_id", "timestamp"),
    [("", HASH_ID, NOW), (SECRET, "", NOW), (SECRET, "a:b", NOW), (SECRET, HASH_ID, -1)],
)
def test_signing_refuses_bad_arguments(secret: str, hash_id: str, timestamp: int) -> None:
    with pytest.raises(ValueError, match=r"."):
        sign_request(secret, hash_id, BODY, timestamp)


def test_the_signing_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(signing.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - {"__future__"} <= sys.stdlib_module_names


def test_the_replay_guard_refuses_a_signature_seen_in_the_window() -> None:
    guard = ReplayGuard(tolerance=300)
    guard.record("a" * 64, NOW, now=NOW)
    with pytest.raises(SignatureError) as caught:
        guard.record("a" * 64, NOW, now=NOW + 300)
    assert caught.value.code == "REPLAYED"
    guard.record("b" * 64, NOW, now=NOW)


def test_the_replay_guard_forgets_signatures_once_stale() -> None:
    guard = ReplayGuard(tolerance=300)
    guard.record("a" * 64, NOW, now=NOW)
    guard.record("b" * 64, NOW + 100, now=NOW)
    guard.record("c" * 64, NOW + 200, now=NOW + 301)
    assert len(guard) == 2


def test_a_full_replay_guard_refuses_rather_than_forgets() -> None:
    guard = ReplayGuard(tolerance=300, max_entries=2)
    guard.record("a" * 64, NOW, now=NOW)
    guard.record("b" * 64, NOW, now=NOW)
    with pytest.raises(ReplayGuardFull):
        guard.record("c" * 64, NOW, now=NOW)
    guard.record("c" * 64, NOW + 400, now=NOW + 301)
    assert len(guard) == 1
