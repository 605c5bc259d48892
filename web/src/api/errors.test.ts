import { describe, expect, it } from "vitest";
import { ApiError, describeError, errorFromResponse, fieldKey, parseRetryAfter, problemsByField } from "./errors";

function envelope(status: number, code: string, details?: unknown[], headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ error: { code, message: `m-${code}`, trace_id: "t1", details } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

describe("errorFromResponse", () => {
  it("reads the envelope, its details and Retry-After", async () => {
    const error = await errorFromResponse(envelope(429, "RATE_LIMITED", [], { "retry-after": "7" }));
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message, error.traceId, error.retryAfter]).toEqual([
      429, "RATE_LIMITED", "m-RATE_LIMITED", "t1", 7,
    ]);
    expect(describeError(error)).toBe("Too many requests. Please wait 7 seconds and try again.");
  });

  it("never shows a body that is not the envelope", async () => {
    const error = await errorFromResponse(new Response("Traceback (most recent call last): ...", { status: 500 }));
    expect(error.code).toBe("HTTP_500");
    expect(describeError(error)).not.toContain("Traceback");
  });

  it("keeps only details that name a field", async () => {
    const error = await errorFromResponse(
      envelope(422, "VALIDATION_FAILED", [{ path: "$.body.name", message: "too long" }, { from: "a", to: "b" }]),
    );
    expect(error.fieldProblems).toEqual([{ path: "$.body.name", message: "too long" }]);
  });
});

describe("fieldKey", () => {
  it.each([
    ["$.body.name", "", "name"],
    ["$.body.tools[0].input_schema.properties.spot.type", "", "tools.0.input_schema.properties.spot.type"],
    ["$.body.payload.spot", "payload", "spot"],
    ["$.body.payload", "payload", ""],
    ["$.body.name", "payload", "name"],
    ["$.query.limit", "", "query.limit"],
  ])("%s (prefix %s) → %s", (path, prefix, key) => {
    expect(fieldKey(path, prefix)).toBe(key);
  });

  it("groups problems by field", () => {
    const error = new ApiError(422, "VALIDATION_FAILED", "", {
      details: [
        { path: "$.body.payload.spot", message: "must be > 0" },
        { path: "$.body.payload.spot", message: "is required" },
      ],
    });
    expect(problemsByField(error, "payload")).toEqual({ spot: ["must be > 0", "is required"] });
  });
});

describe("parseRetryAfter", () => {
  it("takes seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThanOrEqual(4);
  });
});
