"""Rate limits, a dead or hung registry, and a dead Redis: explicit, fast answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Stack, unique_name
from tests.support.factories import card
from tests.support.firebase import EmulatorUser
from tests.support.redis import redis_server
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration


def test_a_burst_past_the_limit_gets_429_with_headers(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    with stack.serve_gateway(rate_limits={"read": "5/minute"}) as gateway:
        url = f"{gateway}/api/v1/registry/search"
        answers = [httpx.get(url, headers=people["other"].bearer) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert answers[0].headers["RateLimit-Limit"] == "5"
    assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    limited = answers[5]
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 12
    assert limited.headers["RateLimit-Remaining"] == "0"


def test_a_proxied_answer_has_one_date_and_none_of_the_hops_own_headers(stack: Stack) -> None:
    """The gateway's server adds its own Date; the service's must not follow it (RFC 9110)."""
    with stack.serve_gateway() as gateway:
        answer = httpx.get(f"{gateway}/api/v1/registry/search")
    assert answer.status_code == 200
    assert len(answer.headers.get_list("date")) == 1
    assert "keep-alive" not in answer.headers
    assert "server" not in answer.headers


def test_anonymous_callers_are_limited_per_ip_at_a_lower_rate(stack: Stack) -> None:
    with stack.serve_gateway(rate_limits={"read": "4/minute"}) as gateway:
        codes = [httpx.get(f"{gateway}/api/v1/registry/search").status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # half of the signed-in limit


def test_two_gateway_instances_share_one_limit(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    user = stack.auth.sign_up(name="burst")
    limits = {"rate_limits": {"read": "6/minute"}}
    with stack.serve_gateway(**limits) as first, stack.serve_gateway(**limits) as second:
        codes = [
            httpx.get(f"{gw}/api/v1/registry/search", headers=user.bearer).status_code
            for gw in [first, second] * 5
        ]
    assert codes.count(200) == 6
    assert codes.count(429) == 4


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with redis_server(port) as server:
        yield f"redis://127.0.0.1:{port}/0", server


def test_with_redis_stopped_the_gateway_serves_under_a_local_limit(
    stack: Stack, own_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, redis_server = own_redis
    user = stack.auth.sign_up(name="redisdown")
    with stack.serve_gateway(redis_url=url, rate_limits={"read": "4/minute"}) as gateway:
        search = f"{gateway}/api/v1/registry/search"
        assert httpx.get(search, headers=user.bearer).status_code == 200
        redis_server.kill()
        redis_server.wait()
        started = time.monotonic()
        codes = [httpx.get(search, headers=user.bearer).status_code for _ in range(5)]
        elapsed = time.monotonic() - started
        ready = httpx.get(f"{gateway}/readyz")
    # Fails open onto this instance's own limit: still served, still bounded, never a hang.
    assert codes == [200, 200, 200, 200, 429]
    assert elapsed < 2.0
    assert ready.status_code == 503
    assert ready.json()["error"]["details"] == [{"dependency": "redis", "state": "unavailable"}]


def test_a_dead_registry_trips_the_breaker_and_recovery_is_automatic(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    from agora_registry.app import create_app

    port = free_port()
    registry = f"http://127.0.0.1:{port}"
    settings = stack.registry_settings().model_copy(update={"iam_audiences": (registry,)})
    overrides = {
        "service_urls": {"registry": registry},
        "breaker_failures": 2,
        "breaker_reset_s": 1.0,
    }
    with stack.serve_gateway(**overrides) as gateway:
        search = f"{gateway}/api/v1/registry/search"
        with serving(create_app(settings), port):
            assert httpx.get(search).status_code == 200
        for _ in range(2):  # the registry is gone: refused connections open the breaker
            down = httpx.get(search)
            assert (down.status_code, down.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
        # While it is open, the gateway does not even try: a listener on the registry's port
        # sees no connection, and the answer says when to come back.
        with socket.create_server(("127.0.0.1", port)) as listener:
            listener.setblocking(False)
            fast = httpx.get(search)
            with pytest.raises(BlockingIOError):
                listener.accept()
        assert fast.status_code == 503
        assert fast.headers["Retry-After"] == "1"
        with serving(create_app(settings), port):
            time.sleep(1.05)
            assert httpx.get(search).status_code == 200, "the half-open trial closes it"
            assert httpx.get(search).status_code == 200


def test_a_hung_registry_gets_504_at_the_route_timeout(stack: Stack) -> None:
    """A real registry process, stopped with SIGSTOP: it accepts connections, never answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **stack.fleet.moved(registry=port).env_for("registry")}
    process = subprocess.Popen(
        [sys.executable, "-m", "agora_registry"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "registry did not start"
            time.sleep(0.1)
        overrides = {"service_urls": {"registry": url}, "timeouts": {"read": 0.5}}
        with stack.serve_gateway(**overrides) as gateway:
            assert httpx.get(f"{gateway}/api/v1/registry/search").status_code == 200
            process.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            hung = httpx.get(f"{gateway}/api/v1/registry/search", timeout=5)
            elapsed = time.monotonic() - started
            process.send_signal(signal.SIGCONT)
        assert (hung.status_code, hung.json()["error"]["code"]) == (504, "GATEWAY_TIMEOUT")
        assert 0.5 <= elapsed < 2.0  # the deadline, not the client's 5 s timeout
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


def test_an_oversized_body_is_413_before_it_reaches_the_registry(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    name = unique_name("Huge")
    body = card(name, description="x" * 2_000_000)
    response = httpx.post(stack.api("/agents/register"), json=body, headers=people["owner"].bearer)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    chunked = httpx.post(
        stack.api("/agents/register"),
        content=iter([b"{" + b" " * 600_000, b" " * 600_000 + b"}"]),
        headers={**people["owner"].bearer, "content-type": "application/json"},
    )
    assert chunked.status_code == 413
    found = httpx.get(
        stack.api("/registry/search"),
        params={"q": name.lower(), "owner": "me"},
        headers=people["owner"].bearer,
    )
    assert found.json()["items"] == []


def test_oversized_bodies_never_trip_the_breaker(
    stack: Stack, people: dict[str, EmulatorUser]
) -> None:
    with stack.serve_gateway(breaker_failures=2) as gateway:
        for _ in range(4):
            too_big = httpx.post(
                f"{gateway}/api/v1/agents/register",
                content=iter([b"{" + b" " * 700_000, b" " * 700_000 + b"}"]),
                headers={**people["owner"].bearer, "content-type": "application/json"},
            )
            assert too_big.status_code == 413
        fine = httpx.post(
            f"{gateway}/api/v1/agents/register",
            json=card(unique_name()),
            headers=people["owner"].bearer,
        )
        assert fine.status_code == 201, fine.text
