"""BigQuery unreachable: fast, explicit 503/504 in the envelope, never a hang."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agora_common.models import CallerKind, UserIdentity
from tests.analytics.conftest import AnalyticsApp, execution

pytestmark = pytest.mark.integration
ADMIN = UserIdentity(kind=CallerKind.USER, uid="admin-1", admin=True)


@pytest.fixture(scope="module")
def analytics_overrides() -> dict[str, Any]:
    # Nothing listens on port 9: every BigQuery call is refused.
    return {"bigquery_emulator_host": "127.0.0.1:9", "bigquery_retry_deadline_s": 0.5}


@pytest.mark.parametrize(
    ("method", "path", "as_user", "service", "body"),
    [
        ("POST", "/log", None, "executor", {"events": [execution()]}),
        ("GET", "/costs", ADMIN, "gateway", None),
        ("GET", "/dashboard", ADMIN, "gateway", None),
    ],
)
async def test_bigquery_down_is_a_fast_503(
    analytics: AnalyticsApp,
    method: str,
    path: str,
    as_user: UserIdentity | None,
    service: str,
    body: Any,
) -> None:
    started = time.monotonic()
    response = await analytics.call(method, path, as_user, service=service, json=body)
    elapsed = time.monotonic() - started
    assert response.status_code in (503, 504), response.text
    assert response.json()["error"]["code"].startswith("ANALYTICS_STORE_")
    assert elapsed < 5


async def test_readiness_names_bigquery(analytics: AnalyticsApp) -> None:
    response = await analytics.http.get(f"{analytics.url}/readyz")
    assert response.status_code == 503
    details = response.json()["error"]["details"]
    # Firestore (the session's emulator) is up: BigQuery alone is named.
    assert [d["dependency"] for d in details] == ["bigquery"]
    assert details[0]["state"] in ("unavailable", "timeout")
