import { describe, expect, it } from "vitest";
import { byKey, byDay, days, usd } from "./series";
import type { Costs } from "./types";

const costs: Costs = {
  scope: "own",
  since: "2026-03-01T10:00:00Z",
  until: "2026-03-04T10:00:00Z",
  calls: 5,
  cost_micros: 1500,
  cost_usd: 0.0015,
  by_day: [
    { key: "2026-03-02", calls: 3, cost_micros: 900, cost_usd: 0.0009 },
    { key: "2026-03-04", calls: 2, cost_micros: 600, cost_usd: 0.0006 },
  ],
  by_agent: [
    { key: "a1", calls: 1, cost_micros: 1000, cost_usd: 0.001 },
    { key: "a2", calls: 4, cost_micros: 500, cost_usd: 0.0005 },
  ],
};

describe("usage series", () => {
  it("lists every day of the window", () => {
    expect(days(costs.since, costs.until)).toEqual(["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]);
  });

  it("fills quiet days with zero", () => {
    const chart = byDay(costs, "calls");
    expect(chart.labels).toEqual(["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]);
    expect(chart.series[0].values).toEqual([0, 3, 0, 2]);
    expect(chart.x).toEqual([0, 1, 2, 3]);
    expect(byDay(costs, "cost").series[0].values).toEqual([0, 0.0009, 0, 0.0006]);
  });

  it("ranks agents by the measure and names them", () => {
    const calls = byKey(costs.by_agent, { a2: "QuantFlow" }, "calls");
    expect(calls.labels).toEqual(["QuantFlow", "a1"]);
    expect(calls.series[0].values).toEqual([4, 1]);
    expect(byKey(costs.by_agent, {}, "cost").labels).toEqual(["a1", "a2"]);
  });

  it("writes micro-USD as dollars", () => {
    expect(usd(0)).toBe("$0");
    expect(usd(1500)).toBe("$0.001500");
    expect(usd(2_500_000)).toBe("$2.5000");
  });
});
