"""The served app with Cloud KMS (the gRPC stand-in) wrapping the data keys; KMS outages."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

from tests.auth.conftest import AuthApp, user
from tests.support.kms import KmsStandIn

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def auth_overrides(kms: KmsStandIn) -> dict[str, Any]:
    return {"kms_key": kms.key_name, "kms_endpoint": kms.endpoint, "dependency_timeout_s": 0.5}


async def test_keys_are_wrapped_by_kms_and_read_back(auth: AuthApp, kms: KmsStandIn) -> None:
    owner = user()
    key = "sk-ant-api03-" + secrets.token_urlsafe(40)
    seen_before = len(kms.plaintexts)
    response = await auth.call("PATCH", "/user/api-keys", owner, json={"anthropic": key})
    assert response.status_code == 200, response.text

    document = (await auth.db.collection("api_keys").document(owner.uid or "").get()).to_dict()
    assert document is not None
    assert document["providers"]["anthropic"]["key_version"] == kms.primary
    # KMS only ever sees the 256-bit data key, never the user's key.
    sent = kms.plaintexts[seen_before:]
    assert sent and all(len(p) == 32 for p in sent)
    assert all(key.encode() not in p for p in kms.plaintexts)

    revealed = await auth.call(
        "GET", f"/internal/api-keys/{owner.uid}/anthropic", None, service="executor"
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["api_key"] == key


@pytest.mark.parametrize("mode", ["stall", "unavailable"])
async def test_a_kms_outage_is_a_fast_503_and_listing_still_works(
    auth: AuthApp, kms: KmsStandIn, mode: str
) -> None:
    owner = user()
    await auth.call("PATCH", "/user/api-keys", owner, json={"openai": "sk-" + "a" * 40})
    kms.mode = mode  # type: ignore[assignment]
    try:
        for method, path, as_user, service, body in (
            ("PATCH", "/user/api-keys", owner, "gateway", {"groq": "gsk_" + "b" * 40}),
            ("GET", f"/internal/api-keys/{owner.uid}/openai", None, "executor", None),
        ):
            started = time.monotonic()
            response = await auth.call(method, path, as_user, service=service, json=body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "KEY_SERVICE_UNAVAILABLE"
            assert elapsed < 2.0, "bounded by the dependency timeout"
        # The masked list needs no key: it answers during the outage.
        listed = await auth.call("GET", "/user/api-keys", owner)
        assert [k["provider"] for k in listed.json()["keys"]] == ["openai"]
    finally:
        kms.mode = "ok"
    again = await auth.call("PATCH", "/user/api-keys", owner, json={"groq": "gsk_" + "b" * 40})
    assert again.status_code == 200, again.text
