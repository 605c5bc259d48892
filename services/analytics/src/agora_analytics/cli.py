"""Operator commands of analytics.

    python -m agora_analytics.cli check-alerts   # the anomaly check, once (as the scheduler)

Settings come from the environment, as for the service (AGORA_ANALYTICS_*).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from agora_analytics.alerts import AlertService
from agora_analytics.bigquery import EventStore, make_client
from agora_analytics.repository import AlertRepository
from agora_analytics.settings import AnalyticsSettings
from agora_common.audit import AuditLog
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.errors import AgoraError


async def check_alerts(settings: AnalyticsSettings) -> int:
    db = make_firestore_client(settings)
    store = EventStore(make_client(settings), settings)
    try:
        timeout = settings.dependency_timeout_s
        service = AlertService(
            store,
            AlertRepository(db, timeout_s=timeout),
            settings.alerts,
            AuditLog(db, timeout_s=timeout),
        )
        result = await service.check()
    except AgoraError as exc:
        print(f"check-alerts: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
        await close_firestore_client(db)
    print(f"checked {result.checked_agents} agents; opened {len(result.opened)} alerts")
    for alert in result.opened:
        print(f"  {alert.id}  {alert.agent_id}  {alert.kind.value}  {alert.observed}")
    for still in result.still_open:
        print(f"  still open: {still}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agora_analytics.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check-alerts", help="run the anomaly check once")
    parser.parse_args(argv)
    return asyncio.run(check_alerts(AnalyticsSettings()))


if __name__ == "__main__":
    sys.exit(main())
