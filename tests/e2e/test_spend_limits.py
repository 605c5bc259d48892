"""Monthly spend limits of personal tokens, for real: a token with a tiny limit executes
QuantFlow until analytics has recorded costs past it, then is refused with 402
SPEND_LIMIT_REACHED, while its owner's ID token and another token go on; analytics unreachable,
a limited token is refused at once (503), never let through."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from agora_analytics.bigquery import EventStore, make_client
from agora_common.models import CallerKind, TokenScope, UserIdentity
from tests.e2e.conftest import Stack
from tests.e2e.test_execute import OPTION, activate_quantflow
from tests.e2e.test_personal_tokens import execute, make_token
from tests.support.servers import free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
LIMIT_USD = 0.0003  # 300 micro-USD: about three QuantFlow calls at the default price


@pytest.fixture(scope="module")
def quantflow(stack: Stack) -> dict[str, Any]:
    return activate_quantflow(stack, stack.auth.sign_up(name="spend-owner"))


def recorded(stack: Stack, token_id: str) -> tuple[int, int]:
    """(rows, micro-USD) analytics stored for the token, read straight from BigQuery."""

    async def read() -> tuple[int, int]:
        settings = stack.analytics_settings()
        store = EventStore(make_client(settings), settings)
        try:
            sql = (
                "SELECT COUNT(DISTINCT event_id) AS n, IFNULL(SUM(cost_micros), 0) AS micros"  # noqa: S608
                f" FROM `{store.table_id}` WHERE token_id = @token_id"
            )
            [row] = await store.query(sql, {"token_id": token_id})
            return int(row["n"]), int(row["micros"])
        finally:
            store.close()

    return asyncio.run(read())


def test_a_token_past_its_monthly_limit_is_refused_and_others_go_on(
    stack: Stack, quantflow: dict[str, Any]
) -> None:
    user = stack.auth.sign_up(name="spend-user")
    limited = make_token(stack, user, "execute", monthly_spend_limit_usd=LIMIT_USD)
    roomy = make_token(stack, user, "execute", monthly_spend_limit_usd=100)

    ran = 0
    deadline = time.monotonic() + 60
    while (answer := execute(stack, limited["token"], quantflow["id"])).status_code == 200:
        assert answer.json()["status"] == "succeeded", answer.text
        ran += 1
        assert time.monotonic() < deadline, f"never refused after {ran} executions"
        time.sleep(0.3)  # the outbox ships, analytics stores, the executor's 1 s cache expires

    assert answer.status_code == 402, answer.text
    error = answer.json()["error"]
    assert error["code"] == "SPEND_LIMIT_REACHED"
    assert "$0.0003" in error["message"], error["message"]
    [detail] = error["details"]
    assert detail["limit_usd"] == pytest.approx(LIMIT_USD)
    assert detail["month_to_date_usd"] >= LIMIT_USD
    assert detail["month_start"].endswith("-01T00:00:00+00:00")
    # Refused only once the recorded costs reached the limit: every call cost 100+ micro-USD.
    assert ran >= 3
    rows, micros = recorded(stack, limited["token_id"])
    assert rows == ran
    assert micros >= LIMIT_USD * 1_000_000
    # The refusal's figure is analytics' answer of a moment ago: the limit reached, and no more
    # than what is recorded now (the calls still shipping then are counted now).
    assert LIMIT_USD * 1_000_000 <= round(detail["month_to_date_usd"] * 1_000_000) <= micros
    # The refusal ran nothing, so nothing more was recorded for it.
    assert execute(stack, limited["token"], quantflow["id"]).status_code == 402
    time.sleep(1.0)
    assert recorded(stack, limited["token_id"])[0] == ran

    # The same user's ID token and another token of theirs still work.
    by_id_token = execute(stack, user, quantflow["id"])
    assert by_id_token.status_code == 200, by_id_token.text
    by_other_token = execute(stack, roomy["token"], quantflow["id"])
    assert by_other_token.status_code == 200, by_other_token.text
    # Only the token's own executions counted toward it: the others carry their own ids.
    time.sleep(1.0)
    assert recorded(stack, limited["token_id"])[0] == ran
    assert eventually(lambda: recorded(stack, roomy["token_id"])[0] == 1)


def test_analytics_unreachable_refuses_a_limited_token_fast(
    stack: Stack, quantflow: dict[str, Any]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    urls = {"registry": stack.registry, "auth": stack.auth_service, "analytics": dead}
    limited = UserIdentity(
        kind=CallerKind.USER,
        uid="spend-dark",
        token_id="tok-dark",
        token_scope=TokenScope.EXECUTE,
        token_spend_limit_usd=5.0,
    )
    body = {"agent_id": quantflow["id"], "tool_name": "black_scholes", "payload": OPTION}
    with stack.serve_executor(port=free_port(), service_urls=urls) as executor:
        started = time.monotonic()
        response = httpx.post(
            f"{executor}/execute",
            json=body,
            headers=stack.as_service("gateway", executor, limited),
            timeout=30,
        )
        took = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SPEND_UNAVAILABLE"
    assert took < 5
