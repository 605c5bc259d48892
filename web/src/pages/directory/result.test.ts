import { describe, expect, it } from "vitest";
import { formatCell, formatDuration, tabulate } from "./result";

describe("tabular results", () => {
  it("tabulates a list of flat records", () => {
    expect(tabulate([{ a: 1, b: "x" }, { a: 2, c: true }])).toEqual({
      columns: ["a", "b", "c"],
      rows: [{ cells: [1, "x", null] }, { cells: [2, null, true] }],
      facts: [],
    });
  });

  it("tabulates records held by an object, keeping its scalars as facts", () => {
    const result = { call: { price: 10.45, delta: 0.64 }, put: { price: 5.57, delta: -0.36 }, d1: 0.35 };
    expect(tabulate(result)).toEqual({
      rowHeader: "",
      columns: ["price", "delta"],
      rows: [
        { label: "call", cells: [10.45, 0.64] },
        { label: "put", cells: [5.57, -0.36] },
      ],
      facts: [["d1", 0.35]],
    });
  });

  it("leaves everything else to JSON", () => {
    expect(tabulate({ price: 1, delta: 2 })).toBeNull();
    expect(tabulate({ a: { x: 1 }, b: { y: [1] } })).toBeNull();
    expect(tabulate([1, 2])).toBeNull();
    expect(tabulate([])).toBeNull();
    expect(tabulate("text")).toBeNull();
    expect(tabulate({ a: { x: 1 }, b: { x: 2 }, c: [1] })).toBeNull();
  });

  it("rounds long decimals for reading", () => {
    expect(formatCell(10.450583572185565)).toBe("10.4506");
    expect(formatCell(3)).toBe("3");
    expect(formatCell(null)).toBe("—");
  });
});

describe("durations", () => {
  it("reads in ms below a second and in s above", () => {
    expect(formatDuration(11.594)).toBe("11.6 ms");
    expect(formatDuration(840.2)).toBe("840 ms");
    expect(formatDuration(2345)).toBe("2.35 s");
  });
});
