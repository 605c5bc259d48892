"""Documents encoded straight to protobuf equal what the Firestore client encodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud.firestore_v1 import _helpers

from agora_common.firestore_encoding import set_write_pb

PATH = "projects/p/databases/(default)/documents/execution_logs/abc"
NOW = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -(2**63),
        2**63 - 1,
        1.5,
        float("inf"),
        -0.0,
        "",
        "é ✓ \U0001f600",
        NOW,
        NOW.astimezone(timezone(timedelta(hours=-5))),
        datetime(2026, 1, 1, 12, 0),  # naive: the client takes it as UTC, and so do we
        DatetimeWithNanoseconds(2026, 1, 1, nanosecond=123456789, tzinfo=UTC),
        b"\x00bytes",
        [1, "two", None, {"three": 3.0}],
        {},
        {"a": {"b": {"c": [True, NOW]}}},
    ],
)
def test_each_value_is_encoded_as_the_client_encodes_it(value: Any) -> None:
    data = {"field": value, "other": "x"}
    (reference,) = _helpers.pbs_for_set_no_merge(PATH, data)
    assert set_write_pb(PATH, data)._pb == reference._pb


def test_a_whole_log_is_encoded_as_the_client_encodes_it() -> None:
    data = {
        "id": "abc",
        "status": "succeeded",
        "error_code": None,
        "duration_ms": 1.25,
        "request_bytes": 123,
        "started_at": NOW,
        "cost_inputs": {"calls": 1, "agent_seconds": 0.00125},
        "shipped": False,
    }
    (reference,) = _helpers.pbs_for_set_no_merge(PATH, data)
    assert set_write_pb(PATH, data)._pb == reference._pb


def test_values_firestore_cannot_hold_are_refused_like_the_client_does() -> None:
    with pytest.raises((ValueError, OverflowError)):
        _helpers.pbs_for_set_no_merge(PATH, {"n": 2**64})
    with pytest.raises((ValueError, OverflowError)):
        set_write_pb(PATH, {"n": 2**64})
