/** The queue's view of an agent's latest scan receipt (GET /vetting/{id}/scan), asked again
 * every few seconds while no scan has finished yet. */
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import { ApiError } from "../../api/errors";
import { ErrorNotice } from "../../components/ErrorNotice";
import { ScanReceiptView } from "../../components/ScanReceiptView";
import { Loading } from "../../components/bits";
import type { ScanReceipt } from "./types";

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
  return <ScanReceiptView receipt={receipt} />;
}
