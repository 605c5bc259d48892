import { describe, expect, it } from "vitest";
import { keyProblem, maskKey } from "./keys";

describe("maskKey", () => {
  it("shows the last four characters only", () => {
    expect(maskKey("wxyz")).toBe("••••••••wxyz");
    expect(maskKey("abcdefwxyz")).toBe("••••••••wxyz");
  });
});

describe("keyProblem", () => {
  it("accepts what the auth service accepts and says why not otherwise", () => {
    expect(keyProblem("sk-test-0123456789abcdef")).toBeNull();
    expect(keyProblem("short")).toMatch(/at least 16/);
    expect(keyProblem("x".repeat(513))).toMatch(/at most 512/);
    expect(keyProblem("sk test 0123456789abcdef")).toMatch(/no spaces/);
  });
});
