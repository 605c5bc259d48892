import { describe, expect, it } from "vitest";
import { describeObserved } from "./alertWords";
import type { Alert } from "./types";

const base: Alert = {
  id: "x",
  agent_id: "a",
  kind: "error_rate",
  status: "open",
  opened_at: "2026-03-01T10:00:00Z",
  last_seen_at: "2026-03-01T10:00:00Z",
  observed: { calls: 12, error_rate: 0.8333 },
  baseline: { calls: 0, error_rate: 0 },
};

describe("describeObserved", () => {
  it("says an error rate against its baseline", () => {
    expect(describeObserved(base)).toBe("Error rate 83.3% over the last 12 calls, 0% with no calls before.");
  });

  it("says a latency against its baseline", () => {
    const alert: Alert = { ...base, kind: "latency", observed: { calls: 10, p95_ms: 900.4 }, baseline: { calls: 40, p95_ms: 100 } };
    expect(describeObserved(alert)).toBe("p95 latency 900 ms over the last 10 calls, 100 ms against 40 calls before.");
  });
});
