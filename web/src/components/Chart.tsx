/**
 * A small uPlot chart: as wide as its container, coloured from the theme's CSS variables (and
 * redrawn when the theme changes), named for screen readers, with the same numbers in a table
 * and as JSON on `data-series` (see chartData.ts).
 */
import { useEffect, useId, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./Chart.css";
import { isEmpty, seriesJson, toAligned, type ChartColor, type ChartData } from "./chartData";

export interface ChartProps {
  title: string;
  data: ChartData;
  /** Lines over time, or bars per category. */
  kind?: "line" | "bars";
  height?: number;
  /** How a value is written on the axis and in the table. */
  format?: (value: number) => string;
  /** Said when every value is zero or missing. */
  emptyText?: string;
}

const PALETTE: ChartColor[] = ["accent", "danger", "ok", "warn"];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim() || "#888";
}

function plain(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function options(props: ChartProps, width: number): uPlot.Options {
  const { data, kind = "line", height = 220, format = plain } = props;
  const text = cssVar("muted");
  const grid = cssVar("border");
  const bars = kind === "bars" ? uPlot.paths.bars?.({ size: [0.6, 64] }) : undefined;
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const category = data.xKind === "category";
  return {
    width,
    height,
    legend: { show: false },
    padding: [12, 24, 0, 0],
    cursor: { show: !category, drag: { x: false, y: false } },
    scales: {
      x: category
        ? { time: false, range: () => [-0.5, Math.max(data.x.length - 0.5, 0.5)] }
        : { time: true },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      category
        ? {
            ...axis,
            // Every label when they fit, else every k-th one.
            splits: (u) => {
              const step = Math.max(1, Math.ceil(data.x.length / Math.max(1, u.width / 90)));
              return data.x.filter((_, index) => index % step === 0);
            },
            values: (_u, splits) => splits.map((i) => shorten(data.labels[i] ?? "")),
          }
        : axis,
      {
        ...axis,
        values: (_u, splits) => splits.map(format),
        // As wide as its longest label (about 7 px a character at uPlot's 12 px font).
        size: (_u, values) => Math.max(40, ...(values ?? []).map((v) => String(v).length * 7 + 18)),
      },
    ],
    series: [
      {},
      ...data.series.map((series, index) => {
        const color = cssVar(series.color ?? PALETTE[index % PALETTE.length]);
        return {
          label: series.label,
          stroke: color,
          width: 2,
          fill: kind === "bars" ? color : undefined,
          paths: bars,
          points: { show: kind === "line" && data.x.length < 40 },
        };
      }),
    ],
  };
}

/** What is drawn: for bars, zero is no bar at all (not a hairline). */
function drawn(data: ChartData, kind: ChartProps["kind"]): uPlot.AlignedData {
  const aligned = toAligned(data);
  if (kind !== "bars") return aligned;
  return [aligned[0], ...aligned.slice(1).map((values) => Array.from(values, (v) => (v ? v : null)))] as uPlot.AlignedData;
}

function shorten(label: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(label)) return label.slice(5); // a day: its month and day
  return label.length > 14 ? `${label.slice(0, 13)}…` : label;
}

export function Chart(props: ChartProps) {
  const { title, data, format = plain, emptyText = "Nothing to show yet." } = props;
  const box = useRef<HTMLDivElement>(null);
  const tableId = useId();
  const json = seriesJson(data);

  useEffect(() => {
    const target = box.current;
    if (!target) return;
    let plot: uPlot | null = null;
    const draw = () => {
      plot?.destroy();
      plot = new uPlot(options(props, Math.max(target.clientWidth, 200)), drawn(data, props.kind), target);
    };
    draw();
    const resize = new ResizeObserver(() => {
      plot?.setSize({ width: Math.max(target.clientWidth, 200), height: props.height ?? 220 });
    });
    resize.observe(target);
    const theme = new MutationObserver(draw);
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => {
      resize.disconnect();
      theme.disconnect();
      plot?.destroy();
    };
    // Redrawn when the numbers (or how they are drawn) change, not on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [json, props.kind, props.height]);

  return (
    <figure className="chart-figure">
      <figcaption>
        <strong>{title}</strong>
        <span className="chart-legend" aria-hidden="true">
          {data.series.map((series, index) => (
            <span key={series.label}>
              <span className={`chart-swatch swatch-${series.color ?? PALETTE[index % PALETTE.length]}`} />
              {series.label}
            </span>
          ))}
        </span>
      </figcaption>
      <div
        className="chart"
        role="img"
        aria-label={`${title}: ${describe(data, format)}`}
        data-series={json}
      >
        {isEmpty(data) && <p className="muted chart-empty">{emptyText}</p>}
        <div ref={box} />
      </div>
      <details id={tableId} className="chart-numbers">
        <summary>{title}: the numbers</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{data.xKind === "time" ? "When" : "Which"}</th>
                {data.series.map((series) => (
                  <th scope="col" key={series.label}>
                    {series.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.labels.map((label, row) => (
                <tr key={`${label}-${row}`}>
                  <th scope="row">{label}</th>
                  {data.series.map((series) => (
                    <td key={series.label}>{series.values[row] == null ? "—" : format(series.values[row]!)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A one-line summary for the accessible name: each series' total or range. */
function describe(data: ChartData, format: (value: number) => string): string {
  if (isEmpty(data)) return "no data";
  return data.series
    .map((series) => {
      const values = series.values.filter((value): value is number => value != null);
      const max = values.length ? Math.max(...values) : 0;
      return `${series.label} up to ${format(max)} over ${data.labels.length} ${data.xKind === "time" ? "periods" : "entries"}`;
    })
    .join("; ");
}
