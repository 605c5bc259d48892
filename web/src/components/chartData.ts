/**
 * What a chart draws, independent of uPlot: x positions with their labels, and named series.
 * The same numbers go to the canvas, to the table for screen readers, and to `data-series`.
 */
import type uPlot from "uplot";

export type ChartColor = "accent" | "danger" | "ok" | "warn";

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color?: ChartColor;
}

export interface ChartData {
  /** "time": x are unix seconds; "category": x are 0..n-1 and the labels name them. */
  xKind: "time" | "category";
  x: number[];
  /** One label per x, as people read it (a day, an hour, an agent's name). */
  labels: string[];
  series: ChartSeries[];
}

/** The arrays uPlot takes: x first, then one array per series. */
export function toAligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.series.map((series) => series.values)] as uPlot.AlignedData;
}

/** The JSON put on the chart's element as `data-series`, for anyone reading the numbers. */
export function seriesJson(data: ChartData): string {
  return JSON.stringify({
    labels: data.labels,
    series: data.series.map(({ label, values }) => ({ label, values })),
  });
}

/** The sum of one series (nulls count as nothing). */
export function total(series: ChartSeries | undefined): number {
  return (series?.values ?? []).reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

/** True when no series has a value at all (zero is a value): the chart says so. */
export function isEmpty(data: ChartData): boolean {
  return data.series.every((series) => series.values.every((value) => value == null));
}

/** A categorical chart: one x per label. */
export function categories(labels: string[], series: ChartSeries[]): ChartData {
  return { xKind: "category", x: labels.map((_, index) => index), labels, series };
}
