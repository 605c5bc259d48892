/** A vetting scan receipt as owners and admins both read it: the verdict, every check, the
 * findings, and the whole receipt (with the platform's signature) as JSON. */
import type { ScanReceipt } from "../api/types";
import { JsonView, formatTime } from "./bits";
import { findingLine } from "./findings";

const VERDICT_BADGE = {
  clean: "badge-active",
  findings: "badge-rejected",
  inconclusive: "badge-pending-vetting",
};

export function ScanReceiptView({ receipt }: { receipt: ScanReceipt }) {
  const asked = receipt.requested_by === "submission" ? "on submission" : "asked by an admin";
  return (
    <section className="receipt" aria-label="Scan receipt">
      <p role="status" aria-live="polite">
        Verdict:{" "}
        <span className={`badge ${VERDICT_BADGE[receipt.verdict]}`} data-verdict={receipt.verdict}>
          {receipt.verdict}
        </span>
        <span className="muted small">
          {" "}
          · scanned {formatTime(receipt.scanned_at)}, {asked}
        </span>
      </p>
      {receipt.reason && <p className="small">Why: {receipt.reason}</p>}
      <div className="table-wrap">
        <table className="small">
          <caption className="muted">Checks</caption>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Result</th>
              <th scope="col">Findings</th>
            </tr>
          </thead>
          <tbody>
            {receipt.checks.map((check) => (
              <tr key={check.name}>
                <th scope="row">
                  {check.name}
                  {check.version && <span className="muted"> {check.version}</span>}
                </th>
                <td>
                  {check.status}
                  {check.reason && <span className="muted"> ({check.reason})</span>}
                </td>
                <td>{check.findings.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {receipt.findings.length > 0 ? (
        <details open={receipt.verdict === "findings"}>
          <summary>
            {receipt.findings.length} finding{receipt.findings.length === 1 ? "" : "s"}
          </summary>
          <ul className="findings" aria-label="Findings">
            {receipt.findings.map((finding, index) => (
              <li key={index}>{findingLine(finding)}</li>
            ))}
          </ul>
        </details>
      ) : (
        <p className="small">No findings.</p>
      )}
      <details>
        <summary>
          The whole receipt{receipt.signed ? ", signed by the platform" : ""}
        </summary>
        <JsonView value={receipt} label="Scan receipt as JSON" />
      </details>
    </section>
  );
}
