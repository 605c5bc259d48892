import { describe, expect, it } from "vitest";
import { matchesUser } from "./userFilter";

const user = { uid: "U123", email: "Ada@Example.com", display_name: null, disabled: false, admin: false, created_at: null };

describe("matchesUser", () => {
  it("matches part of the email, name or uid, in any case", () => {
    expect(matchesUser(user, "")).toBe(true);
    expect(matchesUser(user, " ada@ ")).toBe(true);
    expect(matchesUser(user, "u12")).toBe(true);
    expect(matchesUser(user, "grace")).toBe(false);
  });
});
