import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors";
import { buildRequest, exampleDraft, problemsByFormField } from "./spec";

describe("the Tool Factory's request", () => {
  it("sends the example as a python tool with parsed schemas and only its kind's fields", () => {
    const built = buildRequest(exampleDraft());
    expect(built).toHaveProperty("body");
    const body = (built as { body: Record<string, unknown> }).body;
    expect(body).toMatchObject({ kind: "python", name: "Word Counter", tags: ["text"], version: "1.0.0" });
    expect(body.input_schema).toMatchObject({ type: "object", required: ["text"] });
    expect(body).not.toHaveProperty("provider");
    expect(body).not.toHaveProperty("openapi");
  });

  it("says which JSON field is broken before anything is sent", () => {
    const draft = { ...exampleDraft(), input_schema: "{ nope", output_schema: "[1]" };
    const built = buildRequest(draft) as { problems: Record<string, string[]> };
    expect(built.problems.input_schema?.[0]).toMatch(/not valid JSON/);
    expect(built.problems.output_schema).toEqual(["must be a JSON object"]);
  });

  it("sends an http tool's document as an object or as YAML text, and its operations", () => {
    const base = { ...exampleDraft(), kind: "http" as const, operation_ids: "getQuote, listQuotes" };
    const json = buildRequest({ ...base, openapi: '{"openapi": "3.1.0"}' }) as { body: Record<string, unknown> };
    expect(json.body.openapi).toEqual({ openapi: "3.1.0" });
    expect(json.body.operation_ids).toEqual(["getQuote", "listQuotes"]);
    expect(json.body).not.toHaveProperty("input_schema");
    const yaml = buildRequest({ ...base, openapi: "openapi: 3.1.0" }) as { body: Record<string, unknown> };
    expect(yaml.body.openapi).toBe("openapi: 3.1.0");
    const none = buildRequest({ ...base, openapi: "", operation_ids: " , " }) as { problems: object };
    expect(Object.keys(none.problems).sort()).toEqual(["openapi", "operation_ids"]);
  });

  it("sends an llm tool's provider and model", () => {
    const built = buildRequest({ ...exampleDraft(), kind: "llm" }) as { body: Record<string, unknown> };
    expect(built.body).toMatchObject({ provider: "openai", model: "gpt-4o-mini" });
  });

  it("puts the API's refusals on their form fields, with the path inside a schema", () => {
    const error = new ApiError(422, "INVALID_SCHEMA", "The schema is not valid", {
      details: [
        { path: "$.body.input_schema.properties.text", message: "unknown type 'strng'" },
        { path: "$.body.name", message: "must be ASCII letters" },
      ],
    });
    expect(problemsByFormField(error)).toEqual({
      input_schema: ["at properties.text: unknown type 'strng'"],
      name: ["must be ASCII letters"],
    });
    expect(problemsByFormField(new Error("x"))).toEqual({});
  });
});
