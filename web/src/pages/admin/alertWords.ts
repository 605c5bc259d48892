/** An alert's numbers in a sentence: what the last minutes showed against the baseline. */
import type { Alert } from "./types";

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function pct(value: number | null): string {
  return value == null ? "?" : `${Math.round(value * 1000) / 10}%`;
}

function ms(value: number | null): string {
  return value == null ? "?" : `${Math.round(value)} ms`;
}

export function describeObserved(alert: Alert): string {
  const calls = num(alert.observed.calls);
  const baseCalls = num(alert.baseline.calls);
  const recent = calls == null ? "recently" : `over the last ${calls} call${calls === 1 ? "" : "s"}`;
  const before = baseCalls ? `against ${baseCalls} call${baseCalls === 1 ? "" : "s"} before` : "with no calls before";
  if (alert.kind === "error_rate") {
    return `Error rate ${pct(num(alert.observed.error_rate))} ${recent}, ${pct(num(alert.baseline.error_rate))} ${before}.`;
  }
  return `p95 latency ${ms(num(alert.observed.p95_ms))} ${recent}, ${ms(num(alert.baseline.p95_ms))} ${before}.`;
}
