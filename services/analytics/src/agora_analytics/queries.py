# ruff: noqa: S608 - SQL is composed from this module's constants only; values are parameters.
"""The read queries, as SQL over the events table, with named parameters only.

Every query reads the `events` CTE: one partition range (`occurred_at`), and each `event_id`
once. Streaming inserts carry insertId = event_id, but BigQuery's de-duplication is best effort
(and the emulator has none), so a redelivered event is dropped here; counts stay exact.
"""

from __future__ import annotations

from typing import Final


def events(table: str, kind: str = "execution", where: str = "") -> str:
    return f"""
WITH events AS (
  SELECT * FROM `{table}`
  WHERE kind = '{kind}' AND occurred_at >= @since AND occurred_at < @until {where}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 1
)"""


SUCCEEDED: Final = "status = 'succeeded'"
P = "APPROX_QUANTILES(duration_ms, 100)"

METRICS_SUMMARY: Final = f"""
SELECT COUNT(*) AS calls, COUNTIF({SUCCEEDED}) AS succeeded,
       {P}[SAFE_OFFSET(50)] AS p50_ms, {P}[SAFE_OFFSET(95)] AS p95_ms
FROM events"""

METRICS_ERRORS: Final = f"""
SELECT IFNULL(error_code, UPPER(status)) AS code, COUNT(*) AS count
FROM events WHERE NOT {SUCCEEDED}
GROUP BY code ORDER BY count DESC, code LIMIT 50"""

METRICS_BUCKETS: Final = f"""
SELECT start, COUNT(*) AS calls, COUNTIF(NOT {SUCCEEDED}) AS errors, {P}[SAFE_OFFSET(95)] AS p95_ms
FROM (
  SELECT TIMESTAMP_SECONDS(DIV(UNIX_SECONDS(occurred_at), @bucket_s) * @bucket_s) AS start,
         status, duration_ms
  FROM events
)
GROUP BY start ORDER BY start"""

COSTS_TOTAL: Final = """
SELECT COUNT(*) AS calls, IFNULL(SUM(cost_micros), 0) AS cost_micros FROM events"""


def costs_by(key: str, limit: int = 100) -> str:
    """Calls and cost grouped by one column, most expensive first."""
    return f"""
SELECT CAST({key} AS STRING) AS key, COUNT(*) AS calls,
       IFNULL(SUM(cost_micros), 0) AS cost_micros
FROM events GROUP BY key ORDER BY cost_micros DESC, key LIMIT {int(limit)}"""


# One personal token's spending (the executor's spend-limit check): failed calls cost too.
TOKEN_SPEND: Final = COSTS_TOTAL

COSTS_BY_DAY: Final = """
SELECT CAST(DATE(occurred_at) AS STRING) AS key, COUNT(*) AS calls,
       IFNULL(SUM(cost_micros), 0) AS cost_micros
FROM events GROUP BY key ORDER BY key"""

DASHBOARD_TOTALS: Final = f"""
SELECT COUNT(*) AS calls, COUNTIF(NOT {SUCCEEDED}) AS errors,
       IFNULL(SUM(cost_micros), 0) AS cost_micros,
       COUNT(DISTINCT agent_id) AS agents, COUNT(DISTINCT caller_uid) AS users
FROM events"""

DASHBOARD_HOURS: Final = f"""
SELECT TIMESTAMP_TRUNC(occurred_at, HOUR) AS hour, COUNT(*) AS calls,
       COUNTIF(NOT {SUCCEEDED}) AS errors
FROM events GROUP BY hour ORDER BY hour"""


def top_agents(order: str) -> str:
    return f"""
SELECT agent_id, COUNT(*) AS calls, IFNULL(SUM(cost_micros), 0) AS cost_micros
FROM events GROUP BY agent_id ORDER BY {order} DESC, agent_id LIMIT 10"""


SECURITY_COUNT: Final = """
SELECT IFNULL(SUM(event_count), 0) AS count FROM events"""

# Per agent: the recent window against the baseline before it.
ALERT_WINDOWS: Final = f"""
SELECT agent_id,
  COUNTIF(occurred_at >= @recent) AS recent_calls,
  COUNTIF(occurred_at >= @recent AND NOT {SUCCEEDED}) AS recent_errors,
  APPROX_QUANTILES(IF(occurred_at >= @recent, duration_ms, NULL), 100)[SAFE_OFFSET(95)]
    AS recent_p95_ms,
  COUNTIF(occurred_at < @recent) AS baseline_calls,
  COUNTIF(occurred_at < @recent AND NOT {SUCCEEDED}) AS baseline_errors,
  APPROX_QUANTILES(IF(occurred_at < @recent, duration_ms, NULL), 100)[SAFE_OFFSET(95)]
    AS baseline_p95_ms
FROM events GROUP BY agent_id
HAVING recent_calls >= @min_calls"""
