import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "./client";
import { ApiError } from "./errors";

function client(answer: Response | Error, token: string | null = "tok") {
  const fetcher = vi.fn(async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  });
  const onUnauthenticated = vi.fn();
  const api = new ApiClient({
    apiBase: "http://gw.test/",
    getToken: async () => token,
    onUnauthenticated,
    fetcher: fetcher as unknown as typeof fetch,
  });
  return { api, fetcher, onUnauthenticated };
}

describe("ApiClient", () => {
  it("calls /api/v1 with the token, JSON and the query without empty values", async () => {
    const { api, fetcher } = client(new Response(JSON.stringify({ items: [] }), { status: 200 }));
    await expect(api.get("/registry/search", { q: "Quant", tag: "", limit: 5 })).resolves.toEqual({ items: [] });
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://gw.test/api/v1/registry/search?q=Quant&limit=5");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer tok");
  });

  it("sends no authorization when nobody is signed in", async () => {
    const { api, fetcher } = client(new Response("null", { status: 200 }), null);
    await api.get("/registry/search");
    const [, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it("sends JSON bodies and reads 204 as null", async () => {
    const { api, fetcher } = client(new Response(null, { status: 204 }));
    await expect(api.post("/x", { a: 1 })).resolves.toBeNull();
    const [, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.body).toBe('{"a":1}');
    expect((init.headers as Record<string, string>)["content-type"]).toBe("application/json");
  });

  it("turns a 401 into an ApiError and tells the session", async () => {
    const body = JSON.stringify({ error: { code: "UNAUTHENTICATED", message: "no" } });
    const { api, onUnauthenticated } = client(new Response(body, { status: 401 }));
    await expect(api.get("/auth/user/profile")).rejects.toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    expect(onUnauthenticated).toHaveBeenCalledOnce();
  });

  it("says a network failure in words", async () => {
    const { api } = client(new TypeError("Failed to fetch"));
    const error = (await api.get("/x").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("The platform could not be reached. Check your connection.");
  });
});
