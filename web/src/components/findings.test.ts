import { describe, expect, it } from "vitest";
import { findingLine } from "./findings";

describe("findingLine", () => {
  it("says severity, scanner, rule, place and message", () => {
    const finding = { scanner: "bandit", rule_id: "B602", severity: "high", path: "app.py", line: 12, message: "shell=True" };
    expect(findingLine(finding)).toBe("HIGH · bandit B602 — app.py:12 — shell=True");
  });

  it("names the card's own checks, which have no scanner, and leaves out what is absent", () => {
    expect(findingLine({ check: "url", message: "x" })).toBe("url — x");
    expect(findingLine({ scanner: "bandit", rule_id: "B602", path: "src/app.py", line: 12, message: "m" })).toBe(
      "bandit B602 — src/app.py:12 — m",
    );
  });

  it("falls back to the JSON of a finding of another shape", () => {
    expect(findingLine({ tool: "x" })).toBe('{"tool":"x"}');
  });
});
