/** Admins' decisions on an agent: which ones its status allows, and the body each one sends. */
import type { Verdict } from "./types";

export type Action = "approve" | "reject" | "suspend" | "reinstate";

export const ACTION_WORDS: Record<Action, { verb: string; done: string; confirm?: string }> = {
  approve: { verb: "Approve", done: "approved and deployed" },
  reject: {
    verb: "Reject",
    done: "rejected",
    confirm: "The owner sees your reason; the agent stays out of the directory until they resubmit it.",
  },
  suspend: {
    verb: "Suspend",
    done: "suspended",
    confirm: "Its users lose it at once: every execution is refused until it is reinstated.",
  },
  reinstate: { verb: "Reinstate", done: "reinstated" },
};

/** The decisions open to an agent in this status (services/vetting's rules). */
export function actionsFor(status: string): Action[] {
  switch (status) {
    case "pending-vetting":
      return ["approve", "reject"];
    case "vetted":
      return ["approve"]; // a deploy that failed: approving again retries it
    case "active":
      return ["suspend"];
    case "suspended":
      return ["reinstate"];
    default:
      return [];
  }
}

/** Approving a scan that is not clean needs the admin's explicit acceptance of its findings. */
export function needsAcceptance(status: string, verdict: Verdict | undefined): boolean {
  return status === "pending-vetting" && verdict !== undefined && verdict !== "clean";
}

/** What is wrong with the form before it is sent, by field; empty when it may be sent. */
export function checkDecision(
  action: Action,
  reason: string,
  acceptance: { needed: boolean; given: boolean },
): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  if (!reason.trim()) problems.reason = [`Give a reason to ${action}: it is recorded, and the owner sees it.`];
  if (action === "approve" && acceptance.needed && !acceptance.given) {
    problems.accept_findings = ["Tick the box to accept the scan's findings, or reject the agent instead."];
  }
  return problems;
}

/** The request body: approve's reason travels as `notes`, the others' as `reason`. */
export function decisionBody(action: Action, reason: string, acceptFindings: boolean): Record<string, unknown> {
  const text = reason.trim();
  return action === "approve" ? { notes: text, accept_findings: acceptFindings } : { reason: text };
}
