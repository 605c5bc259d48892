/** The shapes the console reads from the public API (see docs/api.md). */

export type AgentStatus = "pending-vetting" | "vetted" | "active" | "suspended" | "rejected";

export interface ToolSpec {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  output_schema?: Record<string, unknown> | null;
}

export interface AgentCard {
  name: string;
  description: string;
  version: string;
  tools: ToolSpec[];
  deployment: { url?: string | null; image?: string | null; region?: string | null };
  tags?: string[];
  provider?: { organization: string; url?: string | null } | null;
  capabilities?: Record<string, boolean> | null;
  documentation_url?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface Agent {
  id: string;
  hash_id: string;
  status: AgentStatus;
  created_at: string;
  updated_at: string;
  card: AgentCard;
  owner_uid?: string;
  status_reason?: string | null;
}

export interface AgentSummary {
  id: string;
  name: string;
  description: string;
  version: string;
  status: AgentStatus;
  tags: string[];
  tools: Array<{ name: string; description: string }>;
  updated_at: string;
  owner_uid?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Execution {
  execution_id: string;
  agent_id: string;
  tool_name: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string } | null;
  duration_ms: number;
}

/** A catalog entry (`GET /tools/catalog`, `GET /tools/{tool_id}`). */
export interface ToolEntry {
  tool_id: string;
  name: string;
  description: string;
  agent_id: string;
  agent_name: string;
  owner_uid?: string;
  input_schema: Record<string, unknown>;
  output_schema?: Record<string, unknown> | null;
  tags: string[];
  status: string;
  current_version: string;
  versions: string[];
  created_at: string;
  updated_at: string;
  version_conflict?: string | null;
}

export interface ToolVersion {
  tool_id: string;
  version: string;
  description: string;
  input_schema: Record<string, unknown>;
  output_schema?: Record<string, unknown> | null;
  card_digest: string;
  content_digest: string;
  published_at: string;
  deprecated: boolean;
  deprecation_message?: string | null;
}

export interface ToolVersionList {
  tool_id: string;
  items: ToolVersion[];
  latest: string | null;
}

/** A Tool Factory job (`GET /tools/generate/{job_id}`). */
export interface FactoryJob {
  job_id: string;
  status: "queued" | "running" | "ready" | "failed" | string;
  step?: string | null;
  progress: { done: number; total: number };
  package_digest?: string;
  card?: AgentCard;
  files?: Record<string, string>;
  report: Array<Record<string, unknown>>;
  error?: { code?: string; message?: string } | null;
  created_at: string;
  updated_at: string;
}

export interface Submission {
  agent_id: string;
  status: AgentStatus;
  package_digest: string;
  tool_ids: string[];
}

/** One check of a vetting scan (`GET /vetting/{id}/scan`). */
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

export type Verdict = "clean" | "findings" | "inconclusive";

/** A vetting scan receipt; `signed` is the platform's JWS of it (absent on old receipts). */
export interface ScanReceipt {
  scan_id: string;
  agent_id: string;
  card_digest: string;
  source_digest?: string | null;
  scope: string[];
  verdict: Verdict;
  reason?: string | null;
  checks: CheckResult[];
  findings: Finding[];
  requested_by: string;
  scanned_at: string;
  signed?: string | null;
}
