/** Reading vetting's answers about one agent; "none yet" is an answer, not an error. */
import { ApiError } from "../../api/errors";
import type { ApiClient } from "../../api/client";

export interface CheckResult {
  name: string;
  version?: string | null;
  status: string;
  reason?: string | null;
  findings: Finding[];
  duration_ms?: number | null;
}

export type Finding = Record<string, unknown> & {
  severity?: string;
  message?: string;
  scanner?: string;
  check?: string;
  rule_id?: string;
  path?: string;
  line?: number;
};

export interface ScanReceipt {
  scan_id: string;
  agent_id: string;
  card_digest: string;
  scope: string[];
  verdict: "clean" | "findings" | "inconclusive";
  reason?: string | null;
  checks: CheckResult[];
  findings: Finding[];
  requested_by: string;
  scanned_at: string;
}

export interface Decision {
  agent_id: string;
  decision: "approved" | "rejected" | "suspended" | "reinstated";
  status: string;
  reason?: string | null;
  decided_by: string;
  decided_at: string;
  deploy?: Record<string, unknown> | null;
  webhook?: Record<string, unknown> | null;
}

/** GET, with the given 404 code read as "nothing yet" (null). */
export async function readOrNone<T>(api: ApiClient, path: string, noneCode: string): Promise<T | null> {
  try {
    return await api.get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === noneCode) return null;
    throw error;
  }
}

/** Where a finding is, in words: `scanner rule at path:line`. */
export function findingPlace(finding: Finding): string {
  const who = [finding.scanner ?? finding.check, finding.rule_id].filter(Boolean).join(" ");
  const where = finding.path ? `${finding.path}${finding.line ? `:${finding.line}` : ""}` : "";
  return [who, where && `at ${where}`].filter(Boolean).join(" ");
}
