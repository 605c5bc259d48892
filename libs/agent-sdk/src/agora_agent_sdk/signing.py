"""The v1 call signature between the platform's executor and an agent; standard library only.

The executor signs, the agent checks, and both import this one module so the scheme has one
definition: `X-Agora-Signature: v1=<hex>` where hex is HMAC-SHA256 keyed with the agent's secret
(its UTF-8 bytes) over `b"v1:" + timestamp + b":" + hash_id + b":" + raw body`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

HEADER_AGENT_AUTH = "X-Agent-Auth"
HEADER_TIMESTAMP = "X-Agora-Timestamp"
HEADER_SIGNATURE = "X-Agora-Signature"
AGENT_AUTH_PREFIX = "agent_"
SIGNATURE_VERSION = "v1"
# How far a call's timestamp may be from the agent's clock, either way.
TOLERANCE_SECONDS = 60

_HASH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v1=([0-9a-f]{64})")


class SignatureError(Exception):
    """A refused call; `code` names the check that failed."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class SignedHeaders:
    """The well-formed, fresh signature headers of one call, before the body is checked."""

    timestamp: int
    signature: str


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the secret must not be empty")
    return key


def _check_hash_id(hash_id: str) -> str:
    if not _HASH_ID.fullmatch(hash_id):
        raise ValueError("hash_id must be 1-128 letters, digits, _ or -")
    return hash_id


def compute_signature(secret: str | bytes, hash_id: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `v1:<timestamp>:<hash_id>:<body>`."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative integer of unix seconds")
    message = b"%s:%d:%s:%s" % (
        SIGNATURE_VERSION.encode(),
        timestamp,
        _check_hash_id(hash_id).encode(),
        body,
    )
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign_request(
    secret: str | bytes, hash_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers that authenticate one POST /execute carrying exactly `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        HEADER_AGENT_AUTH: AGENT_AUTH_PREFIX + hash_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: f"{SIGNATURE_VERSION}={compute_signature(secret, hash_id, body, ts)}",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as Starlette's Headers."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def check_headers(
    headers: Mapping[str, str],
    hash_id: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> SignedHeaders:
    """Everything that can be checked before reading the body: presence, agent, freshness, form."""
    agent = _header(headers, HEADER_AGENT_AUTH)
    raw_timestamp = _header(headers, HEADER_TIMESTAMP)
    raw_signature = _header(headers, HEADER_SIGNATURE)
    if agent is None or raw_timestamp is None or raw_signature is None:
        raise SignatureError(
            "MISSING_SIGNATURE",
            f"{HEADER_AGENT_AUTH}, {HEADER_TIMESTAMP} and {HEADER_SIGNATURE} are required",
        )
    expected_agent = (AGENT_AUTH_PREFIX + hash_id).encode()
    if not hmac.compare_digest(agent.encode(), expected_agent):
        raise SignatureError("WRONG_AGENT", f"{HEADER_AGENT_AUTH} names another agent")
    if not _TIMESTAMP.fullmatch(raw_timestamp):
        raise SignatureError("BAD_TIMESTAMP", f"{HEADER_TIMESTAMP} must be integer unix seconds")
    timestamp = int(raw_timestamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(
            "STALE_TIMESTAMP", f"{HEADER_TIMESTAMP} is more than {tolerance} s from now"
        )
    match = _SIGNATURE.fullmatch(raw_signature)
    if match is None:
        raise SignatureError("BAD_SIGNATURE", f"{HEADER_SIGNATURE} must be v1=<64 hex digits>")
    return SignedHeaders(timestamp=timestamp, signature=match.group(1))


def check_body(signed: SignedHeaders, secret: str | bytes, hash_id: str, body: bytes) -> None:
    """Constant-time comparison of the signature with the one this body should carry."""
    expected = compute_signature(secret, hash_id, body, signed.timestamp)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise SignatureError("BAD_SIGNATURE", "The signature does not match the request")


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | bytes,
    hash_id: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> SignedHeaders:
    """Both checks in one call (no replay check: that needs state, see `ReplayGuard`)."""
    signed = check_headers(headers, hash_id, now=now, tolerance=tolerance)
    check_body(signed, secret, hash_id, body)
    return signed
