import { describe, expect, it } from "vitest";
import { ApiClient } from "../../api/client";
import { readOrNone } from "./vetting";

function client(status: number, body: unknown) {
  const fetcher = async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  return new ApiClient({ apiBase: "", getToken: async () => null, fetcher });
}

describe("readOrNone", () => {
  it("reads the named 404 as nothing yet and throws every other failure", async () => {
    const none = client(404, { error: { code: "NO_SCAN", message: "No scan of this agent yet" } });
    expect(await readOrNone(none, "/vetting/a/scan", "NO_SCAN")).toBeNull();
    const hidden = client(404, { error: { code: "AGENT_NOT_FOUND", message: "Agent not found" } });
    await expect(readOrNone(hidden, "/vetting/a/scan", "NO_SCAN")).rejects.toMatchObject({ code: "AGENT_NOT_FOUND" });
    expect(await readOrNone(client(200, { verdict: "clean" }), "/x", "NO_SCAN")).toEqual({ verdict: "clean" });
  });
});
