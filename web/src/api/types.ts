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
