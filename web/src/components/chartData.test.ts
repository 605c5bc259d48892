import { describe, expect, it } from "vitest";
import { categories, isEmpty, seriesJson, toAligned, total } from "./chartData";

describe("chart data", () => {
  const data = categories(["a", "b"], [{ label: "Calls", values: [2, null] }]);

  it("is x first, then each series, for uPlot", () => {
    expect(toAligned(data)).toEqual([[0, 1], [2, null]]);
  });

  it("puts the labels and the values on the DOM as JSON", () => {
    expect(JSON.parse(seriesJson(data))).toEqual({ labels: ["a", "b"], series: [{ label: "Calls", values: [2, null] }] });
  });

  it("adds a series up and knows an empty chart", () => {
    expect(total(data.series[0])).toBe(2);
    expect(total(undefined)).toBe(0);
    expect(isEmpty(data)).toBe(false);
    expect(isEmpty(categories(["a"], [{ label: "x", values: [0] }]))).toBe(false);
    expect(isEmpty(categories(["a"], [{ label: "x", values: [null] }]))).toBe(true);
    expect(isEmpty(categories([], [{ label: "x", values: [] }]))).toBe(true);
  });
});
