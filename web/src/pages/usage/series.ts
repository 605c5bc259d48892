/** Costs (GET /analytics/costs) as chart data: by day with the empty days filled, by agent. */
import { categories, type ChartData } from "../../components/chartData";
import type { CostLine, Costs } from "./types";

const DAY_S = 86_400;

function daySeconds(key: string): number {
  return Date.parse(`${key}T00:00:00Z`) / 1000;
}

function dayKey(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Every UTC day from `since` to `until`, so a quiet day shows as zero, not as a gap. */
export function days(since: string, until: string): string[] {
  const first = daySeconds(since.slice(0, 10));
  const last = daySeconds(until.slice(0, 10));
  const keys: string[] = [];
  for (let at = first; at <= last && keys.length < 400; at += DAY_S) keys.push(dayKey(at));
  return keys;
}

export type Measure = "calls" | "cost";

function measure(line: CostLine | undefined, what: Measure): number {
  if (!line) return 0;
  return what === "calls" ? line.calls : line.cost_micros / 1_000_000;
}

const LABELS: Record<Measure, string> = { calls: "Executions", cost: "Cost (USD)" };

export function byDay(costs: Costs, what: Measure): ChartData {
  const lines = new Map(costs.by_day.map((line) => [line.key, line]));
  const keys = days(costs.since, costs.until);
  for (const key of lines.keys()) if (!keys.includes(key)) keys.push(key);
  keys.sort();
  const color = what === "calls" ? "accent" : "ok";
  return categories(keys, [{ label: LABELS[what], values: keys.map((key) => measure(lines.get(key), what)), color }]);
}

/** By agent (or by user), most first, each named (its key when the name is not known). */
export function byKey(lines: CostLine[], names: Record<string, string>, what: Measure): ChartData {
  const sorted = [...lines].sort((a, b) => measure(b, what) - measure(a, what));
  return categories(
    sorted.map((line) => names[line.key] ?? line.key),
    [{ label: LABELS[what], values: sorted.map((line) => measure(line, what)), color: what === "calls" ? "accent" : "ok" }],
  );
}

/** Micro-USD in words: "$0.0012" — small amounts keep their digits. */
export function usd(micros: number): string {
  const dollars = micros / 1_000_000;
  if (dollars === 0) return "$0";
  return `$${dollars.toFixed(dollars < 0.01 ? 6 : dollars < 100 ? 4 : 2)}`;
}
