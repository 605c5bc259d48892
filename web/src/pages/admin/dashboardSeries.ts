/** The dashboard's answer (GET /analytics/dashboard) and agents' metrics as chart data. */
import { categories, type ChartData } from "../../components/chartData";
import type { AgentRank, Dashboard, Metrics } from "./types";

const HOUR_S = 3600;

/** Each hour from `since` to `until` (UTC, on the hour), quiet hours included. */
export function hours(since: string, until: string): number[] {
  const first = Math.floor(Date.parse(since) / 1000 / HOUR_S) * HOUR_S;
  const last = Math.floor(Date.parse(until) / 1000 / HOUR_S) * HOUR_S;
  const all: number[] = [];
  for (let at = first; at <= last && all.length < 200; at += HOUR_S) all.push(at);
  return all;
}

function hourLabel(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 13).replace("T", " ") + ":00 UTC";
}

function perHour(board: Dashboard): { x: number[]; rows: Array<{ calls: number; errors: number }> } {
  const counted = new Map(
    board.executions_per_hour.map((row) => [Math.floor(Date.parse(row.hour) / 1000 / HOUR_S) * HOUR_S, row]),
  );
  const x = hours(board.since, board.until);
  for (const at of counted.keys()) if (!x.includes(at)) x.push(at);
  x.sort((a, b) => a - b);
  return { x, rows: x.map((at) => counted.get(at) ?? { calls: 0, errors: 0 }) };
}

export function executionsPerHour(board: Dashboard): ChartData {
  const { x, rows } = perHour(board);
  return {
    xKind: "time",
    x,
    labels: x.map(hourLabel),
    series: [
      { label: "Executions", values: rows.map((row) => row.calls), color: "accent" },
      { label: "Errors", values: rows.map((row) => row.errors), color: "danger" },
    ],
  };
}

/** Percent of executions that failed, per hour; no value for an hour without executions. */
export function errorRatePerHour(board: Dashboard): ChartData {
  const { x, rows } = perHour(board);
  return {
    xKind: "time",
    x,
    labels: x.map(hourLabel),
    series: [
      {
        label: "Error rate (%)",
        values: rows.map((row) => (row.calls ? Math.round((row.errors / row.calls) * 1000) / 10 : null)),
        color: "danger",
      },
    ],
  };
}

export function topAgents(ranks: AgentRank[], names: Record<string, string>, what: "calls" | "cost"): ChartData {
  return categories(
    ranks.map((rank) => names[rank.agent_id] ?? rank.agent_id),
    [
      what === "calls"
        ? { label: "Executions", values: ranks.map((rank) => rank.calls), color: "accent" }
        : { label: "Cost (USD)", values: ranks.map((rank) => rank.cost_micros / 1_000_000), color: "ok" },
    ],
  );
}

/** p95 and p50 per agent (p95 first: its bar is drawn behind the shorter p50). */
export function latency(metrics: Metrics[], names: Record<string, string>): ChartData {
  const known = metrics.filter((m) => m.calls > 0);
  return categories(
    known.map((m) => names[m.agent_id] ?? m.agent_id),
    [
      { label: "p95 (ms)", values: known.map((m) => m.p95_ms), color: "warn" },
      { label: "p50 (ms)", values: known.map((m) => m.p50_ms), color: "accent" },
    ],
  );
}
