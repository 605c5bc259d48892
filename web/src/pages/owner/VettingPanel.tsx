/** The vetting decision and the latest scan receipt of the owner's agent, polled while pending. */
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import type { AgentStatus, ScanReceipt } from "../../api/types";
import { ScanReceiptView } from "../../components/ScanReceiptView";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, formatTime } from "../../components/bits";
import { readOrNone, type Decision } from "./vetting";

const WAITING: AgentStatus[] = ["pending-vetting", "vetted"];

export function VettingPanel({ agentId, status }: { agentId: string; status: AgentStatus }) {
  const api = useApi();
  const id = encodeURIComponent(agentId);
  const waiting = WAITING.includes(status);
  const decision = useQuery({
    queryKey: ["vetting-decision", agentId, status],
    queryFn: () => readOrNone<Decision>(api, `/vetting/${id}/decision`, "NO_DECISION"),
    refetchInterval: waiting ? 5_000 : false,
  });
  const scan = useQuery({
    queryKey: ["vetting-scan", agentId],
    queryFn: () => readOrNone<ScanReceipt>(api, `/vetting/${id}/scan`, "NO_SCAN"),
    refetchInterval: status === "pending-vetting" ? 3_000 : false,
  });
  return (
    <>
      <h2>Vetting decision</h2>
      <ErrorNotice error={decision.error} />
      {decision.isPending && <Loading what="Reading the decision" />}
      {decision.data === null && <p>No decision yet: an admin decides after the scan.</p>}
      {decision.data && (
        <dl className="facts" aria-label="Decision">
          <dt>Decision</dt>
          <dd>{decision.data.decision}</dd>
          <dt>Reason</dt>
          <dd>{decision.data.reason || "—"}</dd>
          <dt>Decided</dt>
          <dd>{formatTime(decision.data.decided_at)}</dd>
          {decision.data.deploy && (
            <>
              <dt>Deploy</dt>
              <dd>{String(decision.data.deploy.status ?? decision.data.deploy.error ?? "—")}</dd>
            </>
          )}
        </dl>
      )}
      <h2>Latest scan</h2>
      <ErrorNotice error={scan.error} />
      {scan.isPending && <Loading what="Reading the scan" />}
      {scan.data === null && (
        <p role="status" aria-live="polite">
          {status === "pending-vetting"
            ? "The scan is queued or running. This page updates by itself when its receipt is written."
            : "No scan of this agent yet."}
        </p>
      )}
      {scan.data && <ScanReceiptView receipt={scan.data} />}
    </>
  );
}
