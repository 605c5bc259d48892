"""The rate limiter's pipelined Redis connection, against real redis-server processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from redis.exceptions import NoScriptError, ResponseError

from agora_gateway.redis_pipe import RedisPipe, pack
from tests.support.redis import redis_server
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def test_commands_are_packed_as_resp_arrays() -> None:
    assert pack(("EVALSHA", "ab", 1, "k", 2.5)) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\n2.5\r\n"
    )
    assert (
        pack(("SET", b"\r\n\x00", "é"))
        == b"*3\r\n$3\r\nSET\r\n$3\r\n\r\n\x00\r\n$2\r\n\xc3\xa9\r\n"
    )


async def test_concurrent_commands_each_get_their_own_reply(
    emulator_env: dict[str, str],
) -> None:
    pipe = RedisPipe.from_url(emulator_env["REDIS_URL"], timeout_s=2)
    prefix = f"pipe:{time.time_ns()}"
    await asyncio.gather(*(pipe.call("SET", f"{prefix}:{i}", f"value-{i}") for i in range(300)))
    values = await asyncio.gather(*(pipe.call("GET", f"{prefix}:{i}") for i in range(300)))
    assert values == [f"value-{i}".encode() for i in range(300)]
    await pipe.aclose()


async def test_redis_errors_are_redis_py_errors_and_the_pipe_goes_on(
    emulator_env: dict[str, str],
) -> None:
    pipe = RedisPipe.from_url(emulator_env["REDIS_URL"])
    with pytest.raises(NoScriptError):
        await pipe.call("EVALSHA", "0" * 40, 0)
    with pytest.raises(ResponseError):
        await pipe.call("NOSUCHCOMMAND")
    assert await pipe.call("PING") == b"PONG"
    await pipe.aclose()


async def test_a_restarted_redis_is_reconnected_and_a_dead_one_fails_fast() -> None:
    port = free_port()
    pipe = RedisPipe("127.0.0.1", port, connect_timeout_s=0.25, timeout_s=0.25)
    with redis_server(port):
        assert await pipe.call("PING") == b"PONG"
    started = time.monotonic()
    with pytest.raises((ConnectionError, OSError, TimeoutError)):
        await pipe.call("PING")
    assert time.monotonic() - started < 0.5
    with redis_server(port):
        assert await pipe.call("PING") == b"PONG"
    await pipe.aclose()


async def test_a_redis_that_stops_answering_times_out() -> None:
    port = free_port()
    pipe = RedisPipe("127.0.0.1", port, timeout_s=0.2)
    with redis_server(port) as server:
        assert await pipe.call("PING") == b"PONG"
        os.kill(server.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await pipe.call("PING")
            assert time.monotonic() - started < 0.5
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # The late PONG is taken off the connection by the command that gave up; in step.
        assert await pipe.call("ECHO", "next") == b"next"
    await pipe.aclose()


async def test_a_password_and_database_come_from_the_url() -> None:
    port = free_port()
    with redis_server(port, "--requirepass", "s3cret/pw"):
        refused = RedisPipe.from_url(f"redis://127.0.0.1:{port}/0", timeout_s=1)
        with pytest.raises(ResponseError, match="NOAUTH"):
            await refused.call("PING")
        await refused.aclose()
        pipe = RedisPipe.from_url(f"redis://:s3cret%2Fpw@127.0.0.1:{port}/3", timeout_s=1)
        await pipe.call("SET", "where", "db3")
        other = RedisPipe.from_url(f"redis://:s3cret%2Fpw@127.0.0.1:{port}/0", timeout_s=1)
        assert await other.call("GET", "where") is None
        assert await pipe.call("GET", "where") == b"db3"
        await pipe.aclose()
        await other.aclose()


def test_urls_are_read_as_redis_py_reads_them() -> None:
    secure = RedisPipe.from_url("rediss://bench:p%2Fw@cache.internal:6380/3")
    assert (secure.host, secure.port) == ("cache.internal", 6380)
    assert secure._ssl is not None
    assert secure._hello == [("AUTH", "bench", "p/w"), ("SELECT", 3)]
    plain = RedisPipe.from_url("redis://127.0.0.1:6379/0")
    assert (plain._ssl, plain._hello) == (None, [])
