import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { formSchema, serverErrors, uiSchemaFor } from "./schemaForm";

describe("the form for a tool's input schema", () => {
  it("renders object schemas and says why it cannot render others", () => {
    expect(formSchema({ properties: { a: { type: "string" } } })).toEqual({
      schema: { type: "object", properties: { a: { type: "string" } } },
    });
    expect(formSchema({ type: "array" })).toHaveProperty("problem");
    expect(formSchema(null)).toHaveProperty("problem");
  });

  it("lets number fields take any decimal and hides the schema's own title", () => {
    const ui = uiSchemaFor({ type: "object", properties: { rate: { type: "number" }, n: { type: "integer" } } });
    expect(ui.rate).toEqual({ "ui:options": { step: "any" } });
    expect(ui.n).toBeUndefined();
    expect(ui["ui:title"]).toBe("");
  });

  it("puts the executor's refusal on the payload's fields", () => {
    const error = new ApiError(400, "INVALID_PAYLOAD", "The payload does not match the tool's input schema", {
      details: [
        { path: "$.payload.spot", message: "must be greater than 0" },
        { path: "$.payload.legs[1].weight", message: "must be a number" },
        { path: "$.payload", message: "unexpected field" },
      ],
    });
    expect(serverErrors(error)).toEqual({
      __errors: ["unexpected field"],
      spot: { __errors: ["must be greater than 0"] },
      legs: { 1: { weight: { __errors: ["must be a number"] } } },
    });
  });

  it("has nothing to add for errors without field paths", () => {
    expect(serverErrors(new ApiError(503, "UNAVAILABLE", "down"))).toBeUndefined();
    expect(serverErrors(new Error("x"))).toBeUndefined();
  });
});
