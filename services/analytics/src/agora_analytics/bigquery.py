"""The BigQuery side of analytics: the events table's schema, streaming inserts, queries.

google-cloud-bigquery is synchronous, so every call runs in a worker thread, with an explicit
timeout per attempt and a retry deadline: the client's own default retries for up to 10 minutes,
which would turn an outage into a hang. Failures surface as `StoreUnavailable` / `StoreTimeout`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import requests
from google.api_core import exceptions as google_exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry, if_transient_error
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from agora_analytics.settings import AnalyticsSettings
from agora_common.errors import GatewayTimeout, ServiceUnavailable

log = logging.getLogger("agora.analytics.bigquery")

F = bigquery.SchemaField
# The events table. Mirrored in infra/terraform/bigquery_events_schema.json; new columns are
# added here first (NULLABLE, so old rows stay valid; at the end, where BigQuery appends them)
# and created, or added to an existing table, on start-up by `ensure_table`.
SCHEMA: tuple[bigquery.SchemaField, ...] = (
    F("event_id", "STRING", mode="REQUIRED", description="Event id; also the insertId"),
    F("kind", "STRING", mode="REQUIRED", description="execution | security"),
    F("occurred_at", "TIMESTAMP", mode="REQUIRED", description="When it happened (partition)"),
    F("ingested_at", "TIMESTAMP", mode="REQUIRED", description="When analytics took it"),
    F("source", "STRING", description="The service that sent it"),
    F("agent_id", "STRING", description="The agent (clustering key)"),
    F("agent_owner_uid", "STRING"),
    F("tool_name", "STRING"),
    F("caller_uid", "STRING"),
    F("caller_kind", "STRING"),
    F("status", "STRING", description="succeeded | failed | error"),
    F("error_code", "STRING"),
    F("duration_ms", "FLOAT64"),
    F("request_bytes", "INT64"),
    F("response_bytes", "INT64"),
    F("cost_micros", "INT64", description="Price of the execution in micro-USD"),
    F("price_per_call_micros", "INT64"),
    F("price_per_second_micros", "INT64"),
    F("security_type", "STRING"),
    F("client_ip", "STRING"),
    F("event_count", "INT64"),
    F("path", "STRING"),
    # Added later: appended, as BigQuery adds columns (see `_add_missing_columns`).
    F("token_id", "STRING", description="The personal API token the call came with, if any"),
)
PARTITION_FIELD = "occurred_at"
CLUSTERING_FIELDS = ("agent_id",)


class StoreUnavailable(ServiceUnavailable):
    code, message = "ANALYTICS_STORE_UNAVAILABLE", "BigQuery is unavailable; try again later"


class StoreTimeout(GatewayTimeout):
    code, message = "ANALYTICS_STORE_TIMEOUT", "BigQuery did not answer in time"


def _retryable(exc: Exception) -> bool:
    return if_transient_error(exc) or isinstance(exc, requests.ConnectionError | requests.Timeout)


def make_client(settings: AnalyticsSettings) -> bigquery.Client:
    if settings.bigquery_emulator_host:
        return bigquery.Client(
            project=settings.project_id,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{settings.bigquery_emulator_host}"),
        )
    return bigquery.Client(project=settings.project_id, location=settings.location)


class EventStore:
    """The events table: create it, stream rows in, query it."""

    def __init__(self, client: bigquery.Client, settings: AnalyticsSettings) -> None:
        self._client = client
        self.table_id = f"{settings.project_id}.{settings.dataset}.{settings.table}"
        self._dataset_id = f"{settings.project_id}.{settings.dataset}"
        self._location = settings.location
        self._table_ready = False
        self._timeout = settings.bigquery_timeout_s
        self._retry = Retry(
            predicate=_retryable,
            initial=0.2,
            maximum=2.0,
            timeout=settings.bigquery_retry_deadline_s,
        )

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    async def ensure_table(self) -> None:
        """Create the dataset and the table when missing (day partitions, clustered by agent).

        Called at start-up; if BigQuery is down then, the first insert or query tries again.
        """
        if self._table_ready:
            return

        def create() -> None:
            dataset = bigquery.Dataset(self._dataset_id)
            dataset.location = self._location
            self._client.create_dataset(
                dataset, exists_ok=True, retry=self._retry, timeout=self._timeout
            )
            table = bigquery.Table(self.table_id, schema=list(SCHEMA))
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=PARTITION_FIELD
            )
            table.clustering_fields = list(CLUSTERING_FIELDS)
            self._client.create_table(
                table, exists_ok=True, retry=self._retry, timeout=self._timeout
            )
            self._add_missing_columns()

        await self._run(create)
        self._table_ready = True

    def _add_missing_columns(self, *, again: bool = True) -> None:
        """The one migration there is: columns of SCHEMA the table lacks are appended (all
        NULLABLE, so the rows already stored stay valid). Existing columns are never changed."""
        table = self._client.get_table(self.table_id, retry=self._retry, timeout=self._timeout)
        present = {field.name for field in table.schema}
        missing = [field for field in SCHEMA if field.name not in present]
        if not missing:
            return
        table.schema = [*table.schema, *missing]
        try:
            self._client.update_table(table, ["schema"], retry=self._retry, timeout=self._timeout)
        except google_exceptions.PreconditionFailed:
            if not again:
                raise
            self._add_missing_columns(again=False)  # another instance changed it first: re-read
            return
        log.info("events table migrated", extra={"added": [field.name for field in missing]})

    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
        """Stream rows in, insertId = event_id; answers the per-row errors BigQuery reported.

        `skip_invalid_rows`: a row BigQuery refuses does not keep the others out.
        """

        await self.ensure_table()

        def insert() -> Sequence[dict[str, Any]]:
            return self._client.insert_rows_json(
                self.table_id,
                list(rows),
                row_ids=[row["event_id"] for row in rows],
                skip_invalid_rows=True,
                retry=self._retry,
                timeout=self._timeout,
            )

        errors = await self._run(insert)
        return {int(item["index"]): list(item.get("errors", [])) for item in errors}

    async def query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a read query with named parameters; rows as dicts."""
        await self.ensure_table()
        config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(name, value) for name, value in params.items()],
            use_legacy_sql=False,
        )

        def run() -> list[dict[str, Any]]:
            job = self._client.query(
                sql, job_config=config, retry=self._retry, timeout=self._timeout
            )
            return [dict(row.items()) for row in job.result(timeout=self._timeout)]

        rows: list[dict[str, Any]] = await self._run(run)
        return rows

    async def ping(self) -> None:
        await self._run(
            lambda: self._client.get_table(self.table_id, retry=self._retry, timeout=self._timeout)
        )

    async def _run(self, call: Any) -> Any:
        # The thread may outlive the wait; the client's own timeout and retry deadline end it.
        budget = (self._retry.timeout or 0) + 2 * self._timeout
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), budget)
        except TimeoutError as exc:
            raise StoreTimeout() from exc
        except (google_exceptions.RetryError, google_exceptions.DeadlineExceeded) as exc:
            log.warning("bigquery call gave up", extra={"error": type(exc).__name__})
            raise StoreTimeout() from exc
        except (google_exceptions.GoogleAPIError, requests.RequestException) as exc:
            if isinstance(exc, google_exceptions.ClientError) and not _retryable(exc):
                raise  # our bug (a bad query): a 500 with a logged traceback, not an outage
            log.warning("bigquery unavailable", extra={"error": type(exc).__name__})
            raise StoreUnavailable() from exc


def _parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter:
    if isinstance(value, datetime):
        kind = "TIMESTAMP"
    elif isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    else:
        kind = "STRING"
    return bigquery.ScalarQueryParameter(name, kind, value)
