"""A real analytics service served over HTTP on the session's BigQuery and Firestore emulators.

Each module gets its own project id, hence its own dataset and collections (the emulators have
no reset). `AnalyticsApp.call` calls it as any service on behalf of any user.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_analytics.app import create_app
from agora_analytics.bigquery import EventStore, make_client
from agora_analytics.settings import AnalyticsSettings
from tests.support.calls import CallsAsService
from tests.support.factories import local_fleet
from tests.support.servers import free_port, serving


def execution(**overrides: Any) -> dict[str, Any]:
    """An execution event as the executor ships it."""
    event = {
        "kind": "execution",
        "event_id": f"exec-{secrets.token_hex(8)}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "agent_id": "agent-1",
        "agent_owner_uid": "owner-1",
        "tool_name": "black_scholes",
        "caller_uid": "user-1",
        "caller_kind": "user",
        "status": "succeeded",
        "duration_ms": 12.5,
        "request_bytes": 100,
        "response_bytes": 200,
    }
    return event | overrides


def analytics_settings(
    dev_key: tuple[Path, Path], url: str, project: str, env: dict[str, str], **overrides: Any
) -> AnalyticsSettings:
    # Short BigQuery budgets, so a failing call fails the test fast.
    quick = {"bigquery_retry_deadline_s": 1.0, "bigquery_timeout_s": 5.0}
    fleet = local_fleet(dev_key, env, project, analytics=url)
    return fleet.settings(AnalyticsSettings, **(quick | overrides))


@dataclass
class AnalyticsApp(CallsAsService):
    url: str
    project: str
    key_file: Path
    settings: AnalyticsSettings
    http: httpx.AsyncClient
    store: EventStore

    async def log(self, events: list[dict[str, Any]], service: str = "executor") -> httpx.Response:
        return await self.call("POST", "/log", None, service=service, json={"events": events})

    async def count(self, where: str = "TRUE", **params: Any) -> int:
        """Rows stored (duplicates included), read straight from BigQuery."""
        sql = f"SELECT COUNT(*) AS n FROM `{self.store.table_id}` WHERE {where}"  # noqa: S608
        return int((await self.store.query(sql, params))[0]["n"])


@pytest.fixture(scope="module")
def project() -> str:
    return f"demo-agora-analytics-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def analytics_overrides() -> dict[str, Any]:
    """Settings of this module's app; override the fixture in a module to change them."""
    return {}


@pytest.fixture(scope="module")
def served_analytics(
    dev_key: tuple[Path, Path],
    project: str,
    emulator_env: dict[str, str],
    analytics_overrides: dict[str, Any],
) -> Iterator[tuple[str, AnalyticsSettings]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = analytics_settings(dev_key, url, project, emulator_env, **analytics_overrides)
    with serving(create_app(settings), port):
        yield url, settings


@pytest.fixture(scope="module")
async def analytics(
    served_analytics: tuple[str, AnalyticsSettings], dev_key: tuple[Path, Path], project: str
) -> AsyncIterator[AnalyticsApp]:
    url, settings = served_analytics
    store = EventStore(make_client(settings), settings)
    async with httpx.AsyncClient(timeout=30) as http:
        yield AnalyticsApp(url, project, dev_key[0], settings, http, store)
    store.close()
