/** The admin pages' answers: vetting (services/vetting), users (auth), analytics. */
import type { ScanReceipt, Verdict } from "../../api/types";

export type { ScanReceipt, Verdict };

export interface QueueItem {
  agent_id: string;
  name?: string | null;
  owner_uid: string;
  status: string;
  submitted_at: string;
  card_digest: string;
  latest_scan?: ScanReceipt | null;
}

export interface QueuePage {
  items: QueueItem[];
  next_cursor: string | null;
}

export interface Decision {
  agent_id: string;
  decision: "approved" | "rejected" | "suspended" | "reinstated";
  status: string;
  reason?: string | null;
  decided_by: string;
  decided_at: string;
  deploy?: Record<string, unknown> | null;
}

export interface UserRecord {
  uid: string;
  email: string | null;
  display_name: string | null;
  disabled: boolean;
  admin: boolean;
  created_at: string | null;
}

export interface UserPage {
  users: UserRecord[];
  next_page_token: string | null;
}

export interface Alert {
  id: string;
  agent_id: string;
  kind: "error_rate" | "latency";
  status: "open" | "acked";
  opened_at: string;
  last_seen_at: string;
  observed: Record<string, unknown>;
  baseline: Record<string, unknown>;
  acked_by?: string | null;
  acked_at?: string | null;
  note?: string | null;
}

export interface AlertCheck {
  checked_agents: number;
  opened: Alert[];
  still_open: string[];
}

export interface AgentRank {
  agent_id: string;
  calls: number;
  cost_micros: number;
  cost_usd: number;
}

export interface Dashboard {
  since: string;
  until: string;
  calls: number;
  errors: number;
  error_rate: number | null;
  cost_micros: number;
  cost_usd: number;
  agents: number;
  users: number;
  security_events: number;
  executions_per_hour: Array<{ hour: string; calls: number; errors: number }>;
  top_agents_by_calls: AgentRank[];
  top_agents_by_cost: AgentRank[];
  open_alerts: Alert[];
}

export interface Metrics {
  agent_id: string;
  calls: number;
  succeeded: number;
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}
