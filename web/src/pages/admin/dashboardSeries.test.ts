import { describe, expect, it } from "vitest";
import { errorRatePerHour, executionsPerHour, hours, latency, topAgents } from "./dashboardSeries";
import type { Dashboard } from "./types";

const board: Dashboard = {
  since: "2026-03-01T10:20:00Z",
  until: "2026-03-01T13:20:00Z",
  calls: 6,
  errors: 1,
  error_rate: 1 / 6,
  cost_micros: 600,
  cost_usd: 0.0006,
  agents: 2,
  users: 1,
  security_events: 0,
  executions_per_hour: [
    { hour: "2026-03-01T11:00:00Z", calls: 4, errors: 1 },
    { hour: "2026-03-01T13:00:00Z", calls: 2, errors: 0 },
  ],
  top_agents_by_calls: [
    { agent_id: "a1", calls: 4, cost_micros: 400, cost_usd: 0.0004 },
    { agent_id: "a2", calls: 2, cost_micros: 200, cost_usd: 0.0002 },
  ],
  top_agents_by_cost: [],
  open_alerts: [],
};

describe("dashboard series", () => {
  it("has every hour of the window", () => {
    const at = hours(board.since, board.until);
    expect(at).toHaveLength(4);
    expect(at[1] - at[0]).toBe(3600);
  });

  it("counts executions and errors per hour, quiet hours as zero", () => {
    const chart = executionsPerHour(board);
    expect(chart.series.map((s) => s.values)).toEqual([
      [0, 4, 0, 2],
      [0, 1, 0, 0],
    ]);
    expect(chart.labels[1]).toBe("2026-03-01 11:00 UTC");
  });

  it("gives the error rate in percent, none for an hour without calls", () => {
    expect(errorRatePerHour(board).series[0].values).toEqual([null, 25, null, 0]);
  });

  it("ranks agents with their names and cost in dollars", () => {
    expect(topAgents(board.top_agents_by_calls, { a1: "QuantFlow" }, "calls").labels).toEqual(["QuantFlow", "a2"]);
    expect(topAgents(board.top_agents_by_calls, {}, "cost").series[0].values).toEqual([0.0004, 0.0002]);
  });

  it("shows p95 behind p50 for agents with calls", () => {
    const chart = latency(
      [
        { agent_id: "a1", calls: 3, succeeded: 3, success_rate: 1, p50_ms: 10, p95_ms: 40 },
        { agent_id: "a2", calls: 0, succeeded: 0, success_rate: null, p50_ms: null, p95_ms: null },
      ],
      {},
    );
    expect(chart.labels).toEqual(["a1"]);
    expect(chart.series.map((s) => [s.label, s.values])).toEqual([
      ["p95 (ms)", [40]],
      ["p50 (ms)", [10]],
    ]);
  });
});
