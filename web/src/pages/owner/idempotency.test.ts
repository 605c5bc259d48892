import { describe, expect, it } from "vitest";
import { attemptFor } from "./idempotency";

describe("attemptFor", () => {
  it("keeps the key while the card is the same and makes a new one when it changes", () => {
    let n = 0;
    const next = () => `key-${++n}`;
    const first = attemptFor(null, { name: "A" }, next);
    expect(first.key).toBe("key-1");
    expect(attemptFor(first, { name: "A" }, next)).toBe(first);
    expect(attemptFor(first, { name: "B" }, next).key).toBe("key-2");
  });
});
