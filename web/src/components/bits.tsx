/** Small shared pieces: status badges, JSON, loading and empty states. */
import type { ReactNode } from "react";
import type { AgentStatus } from "../api/types";

const STATUS_WORDS: Record<string, string> = {
  "pending-vetting": "Pending vetting",
  vetted: "Vetted",
  active: "Active",
  suspended: "Suspended",
  rejected: "Rejected",
  removed: "Removed",
};

export function StatusBadge({ status }: { status: AgentStatus | string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {STATUS_WORDS[status] ?? status}
    </span>
  );
}

export function JsonView({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" aria-label={label ?? "JSON"} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
