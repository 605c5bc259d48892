/** How a tool's result is shown: a table where it is tabular, JSON otherwise. */

export type Cell = string | number | boolean | null;
export interface Table {
  /** The first column names each row when rows come from an object's keys. */
  rowHeader?: string;
  columns: string[];
  rows: Array<{ label?: string; cells: Cell[] }>;
  /** Scalar fields beside the rows (e.g. `d1`, `d2` next to `call` and `put`). */
  facts: Array<[string, Cell]>;
}

const isCell = (value: unknown): value is Cell =>
  value === null || ["string", "number", "boolean"].includes(typeof value);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isFlatRecord = (value: unknown): value is Record<string, Cell> =>
  isRecord(value) && Object.keys(value).length > 0 && Object.values(value).every(isCell);

function columnsOf(records: Array<Record<string, Cell>>): string[] {
  const columns: string[] = [];
  for (const record of records) {
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  }
  return columns;
}

/**
 * A table for results made of flat records: a list of them (`[{...}, {...}]`), or an object
 * holding two or more records beside scalar facts (`{call: {...}, put: {...}, d1: 0.35}`).
 * Anything else (nesting, mixed lists) is `null`, and shown as JSON.
 */
export function tabulate(result: unknown): Table | null {
  if (Array.isArray(result)) {
    if (result.length === 0 || !result.every(isFlatRecord)) return null;
    const columns = columnsOf(result);
    return {
      columns,
      rows: result.map((record) => ({ cells: columns.map((c) => record[c] ?? null) })),
      facts: [],
    };
  }
  if (!isRecord(result)) return null;
  const entries = Object.entries(result);
  const records = entries.filter((entry): entry is [string, Record<string, Cell>] =>
    isFlatRecord(entry[1]),
  );
  const facts = entries.filter((entry): entry is [string, Cell] => isCell(entry[1]));
  if (records.length < 2 || records.length + facts.length !== entries.length) return null;
  const columns = columnsOf(records.map(([, record]) => record));
  return {
    rowHeader: "",
    columns,
    rows: records.map(([label, record]) => ({
      label,
      cells: columns.map((c) => record[c] ?? null),
    })),
    facts,
  };
}

export function formatCell(value: Cell): string {
  if (value === null) return "—";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }
  return String(value);
}

/** An execution's duration for reading: `11.6 ms`, `840 ms`, `2.35 s`. */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}
