/** An agent's latest scan receipt (GET /vetting/{id}/scan): verdict, checks, findings. Asked
 * again every few seconds while no scan has finished yet. */
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import { ApiError } from "../../api/errors";
import { ErrorNotice } from "../../components/ErrorNotice";
import { JsonView, Loading, formatTime } from "../../components/bits";
import { findingLine } from "./findings";
import type { ScanReceipt } from "./types";

const VERDICT_BADGE = { clean: "badge-active", findings: "badge-rejected", inconclusive: "badge-pending-vetting" };

export function useReceipt(agentId: string, initial?: ScanReceipt | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["scan", agentId],
    queryFn: () => api.get<ScanReceipt>(`/vetting/${encodeURIComponent(agentId)}/scan`),
    initialData: initial ?? undefined,
    initialDataUpdatedAt: 0,
    retry: false,
    // No scan yet (404 NO_SCAN): it is queued or running; ask again.
    refetchInterval: (query) =>
      query.state.error instanceof ApiError && query.state.error.status === 404 ? 3000 : false,
  });
}

export function Receipt({ receipt, error, pending }: { receipt?: ScanReceipt; error: unknown; pending: boolean }) {
  const noScan = error instanceof ApiError && error.status === 404;
  if (noScan && !receipt) return <Loading what="Scanning: no receipt yet, this page asks again every few seconds" />;
  if (!receipt) return pending ? <Loading what="Reading the scan receipt" /> : <ErrorNotice error={error} />;
  return (
    <div className="receipt" aria-label="Scan receipt" role="group">
      <p>
        Scan verdict{" "}
        <span className={`badge ${VERDICT_BADGE[receipt.verdict]}`} data-verdict={receipt.verdict}>
          {receipt.verdict}
        </span>{" "}
        <span className="muted small">
          {formatTime(receipt.scanned_at)}, {receipt.requested_by === "submission" ? "on submission" : "asked by an admin"}
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
          <ul className="findings">
            {receipt.findings.map((finding, index) => (
              <li key={index}>{findingLine(finding)}</li>
            ))}
          </ul>
        </details>
      ) : (
        <p className="small">No findings.</p>
      )}
      <details>
        <summary>The whole receipt</summary>
        <JsonView value={receipt} label="Scan receipt as JSON" />
      </details>
    </div>
  );
}
