/** A tool's result: a table where it is tabular, with the raw JSON a click away; JSON otherwise. */
import { Fragment } from "react";
import { JsonView } from "../../components/bits";
import { formatCell, tabulate } from "./result";

export function ResultView({ result }: { result: unknown }) {
  const table = tabulate(result);
  if (!table) return <JsonView value={result} label="Result as JSON" />;
  return (
    <>
      <div className="table-wrap">
        <table aria-label="Result">
          <thead>
            <tr>
              {table.rowHeader !== undefined && <td />}
              {table.columns.map((column) => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, index) => (
              <tr key={row.label ?? index}>
                {row.label !== undefined && <th scope="row">{row.label}</th>}
                {row.cells.map((cell, column) => (
                  <td key={table.columns[column]}>{formatCell(cell)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {table.facts.length > 0 && (
        <dl className="facts" aria-label="Other values">
          {table.facts.map(([name, value]) => (
            <Fragment key={name}>
              <dt>{name}</dt>
              <dd>{formatCell(value)}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      <details>
        <summary>The result as JSON</summary>
        <JsonView value={result} label="Result as JSON" />
      </details>
    </>
  );
}
