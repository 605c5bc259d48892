"""Execution logs leave the request path: batched, retried, flushed at shutdown, never doubled."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_executor.logs import ExecutionLogWriter
from agora_executor.repository import EXECUTION_LOGS, ExecutorRepository
from agora_executor.settings import ExecutorSettings
from tests.support.factories import local_settings_kwargs

pytestmark = pytest.mark.integration


def _settings(dev_key: tuple[object, object], firestore_host: str) -> ExecutorSettings:
    return ExecutorSettings(
        **local_settings_kwargs(
            *dev_key,  # type: ignore[arg-type]
            "http://executor",
            project_id=f"demo-agora-logs-{secrets.token_hex(4)}",
            firestore_emulator_host=firestore_host,
        )
    )


@pytest.fixture
async def db(
    dev_key: tuple[object, object], emulator_env: dict[str, str]
) -> AsyncIterator[firestore.AsyncClient]:
    client = make_firestore_client(_settings(dev_key, emulator_env["FIRESTORE_EMULATOR_HOST"]))
    yield client
    await close_firestore_client(client)


def entry(run: str, index: int) -> dict[str, object]:
    return {"id": f"{run}-{index:04d}", "status": "succeeded", "duration_ms": 1.0}


async def count(db: firestore.AsyncClient, run: str) -> int:
    return len([d async for d in db.collection(EXECUTION_LOGS).stream() if d.id.startswith(run)])


async def test_logs_are_written_in_batches_and_flushed_at_shutdown(
    db: firestore.AsyncClient,
) -> None:
    run = secrets.token_hex(4)
    writer = ExecutionLogWriter(ExecutorRepository(db), batch_size=100, flush_interval_s=0.05)
    writer.start()
    for index in range(250):
        writer.add(entry(run, index))
    for _ in range(100):
        if await count(db, run) == 250:
            break
        await asyncio.sleep(0.05)
    assert await count(db, run) == 250
    for index in range(250, 260):  # still buffered when the service stops
        writer.add(entry(run, index))
    await writer.aclose()
    assert await count(db, run) == 260


async def test_a_firestore_outage_keeps_the_logs_until_it_returns(
    dev_key: tuple[object, object], db: firestore.AsyncClient
) -> None:
    run = secrets.token_hex(4)
    dead = make_firestore_client(_settings(dev_key, "127.0.0.1:9"))
    writer = ExecutionLogWriter(
        ExecutorRepository(dead, timeout_s=0.2), flush_interval_s=0.01, shutdown_timeout_s=0.5
    )
    writer.start()
    for index in range(5):
        writer.add(entry(run, index))
    await asyncio.sleep(0.5)
    assert len(writer) == 5, "nothing is dropped while Firestore is down"
    await writer.aclose()
    await close_firestore_client(dead)

    # The same entries written again (a retry after recovery) stay five documents.
    again = ExecutionLogWriter(ExecutorRepository(db), flush_interval_s=0.01)
    again.start()
    for index in range(5):
        again.add(entry(run, index))
        again.add(entry(run, index))
    await again.aclose()
    assert await count(db, run) == 5


def a_full_log(log_id: str) -> dict[str, object]:
    """An execution log as the executor writes it, with every kind of value it holds."""
    now = datetime.now(UTC)
    return {
        "id": log_id,
        "agent_id": "agent-é",
        "agent_owner_uid": "owner",
        "tool_name": "black_scholes",
        "caller_uid": None,
        "caller_kind": "user",
        "status": "failed",
        "error_code": "TOOL_ERROR",
        "duration_ms": 12.345,
        "request_bytes": 2**40,
        "response_bytes": 0,
        "started_at": now - timedelta(microseconds=1234),
        "finished_at": now,
        "cost_inputs": {"calls": 1, "agent_seconds": 0.012345, "nested": {"deep": [1, "x"]}},
        "shipped": False,
    }


async def test_logs_read_back_exactly_as_the_client_would_have_written_them(
    db: firestore.AsyncClient,
) -> None:
    """A batch of logs reads back with every field, as a document's own `set` writes it."""
    run = secrets.token_hex(4)
    ours = a_full_log(f"{run}-ours")
    theirs = {**ours, "id": f"{run}-theirs"}
    await ExecutorRepository(db).add_execution_logs([ours])
    await db.collection(EXECUTION_LOGS).document(str(theirs["id"])).set(theirs)
    read_ours = (await db.collection(EXECUTION_LOGS).document(str(ours["id"])).get()).to_dict()
    read_theirs = (await db.collection(EXECUTION_LOGS).document(str(theirs["id"])).get()).to_dict()
    assert read_ours is not None and read_theirs is not None
    assert {**read_ours, "id": None} == {**read_theirs, "id": None}
    assert read_ours["finished_at"] == ours["finished_at"]
    assert read_ours["request_bytes"] == 2**40
