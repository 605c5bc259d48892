import { describe, expect, it } from "vitest";
import { actionsFor, checkDecision, decisionBody, needsAcceptance } from "./decisions";

describe("decisions", () => {
  it("offers what the status allows", () => {
    expect(actionsFor("pending-vetting")).toEqual(["approve", "reject"]);
    expect(actionsFor("vetted")).toEqual(["approve"]);
    expect(actionsFor("active")).toEqual(["suspend"]);
    expect(actionsFor("suspended")).toEqual(["reinstate"]);
    expect(actionsFor("rejected")).toEqual([]);
  });

  it("asks to accept findings only for a pending agent whose scan is not clean", () => {
    expect(needsAcceptance("pending-vetting", "findings")).toBe(true);
    expect(needsAcceptance("pending-vetting", "inconclusive")).toBe(true);
    expect(needsAcceptance("pending-vetting", "clean")).toBe(false);
    expect(needsAcceptance("pending-vetting", undefined)).toBe(false);
    expect(needsAcceptance("vetted", "findings")).toBe(false);
  });

  it("needs a reason, and the acceptance when asked", () => {
    expect(Object.keys(checkDecision("reject", "  ", { needed: false, given: false }))).toEqual(["reason"]);
    expect(checkDecision("suspend", "abuse", { needed: false, given: false })).toEqual({});
    expect(Object.keys(checkDecision("approve", "ok", { needed: true, given: false }))).toEqual(["accept_findings"]);
    expect(checkDecision("approve", "ok", { needed: true, given: true })).toEqual({});
  });

  it("sends approve's reason as notes", () => {
    expect(decisionBody("approve", " fine ", true)).toEqual({ notes: "fine", accept_findings: true });
    expect(decisionBody("reject", " no ", false)).toEqual({ reason: "no" });
  });
});
