import { describe, expect, it } from "vitest";
import { leafErrors, propertyOf, validator } from "./validator";
import type { RJSFSchema } from "@rjsf/utils";

const OPTION: RJSFSchema = {
  type: "object",
  required: ["spot", "volatility"],
  properties: {
    spot: { type: "number", exclusiveMinimum: 0, title: "Spot" },
    volatility: { type: "number", minimum: 0, maximum: 5 },
    kind: { $ref: "#/$defs/Kind" },
    legs: { type: "array", items: { type: "object", properties: { weight: { type: "number" } } } },
  },
  $defs: { Kind: { enum: ["call", "put"] } },
};

describe("the interpreting validator", () => {
  it("accepts a valid payload", () => {
    const { errors } = validator.validateFormData({ spot: 100, volatility: 0.2 }, OPTION);
    expect(errors).toEqual([]);
  });

  it("puts a missing required property on that property's field", () => {
    const { errorSchema } = validator.validateFormData({ spot: 100 }, OPTION);
    expect(errorSchema).toEqual({ volatility: { __errors: ["Required"] } });
  });

  it("reports only the innermost failure, on its own field", () => {
    const { errors, errorSchema } = validator.validateFormData(
      { spot: -1, volatility: 0.2, legs: [{ weight: "x" }] },
      OPTION,
    );
    expect(errors.map((error) => error.property).sort()).toEqual([".legs.0.weight", ".spot"]);
    expect((errorSchema as Record<string, any>).spot.__errors[0]).toMatch(/0/);
    expect((errorSchema as Record<string, any>).legs[0].weight.__errors).toHaveLength(1);
  });

  it("resolves $ref against the schema's own $defs", () => {
    const bad = validator.validateFormData({ spot: 1, volatility: 1, kind: "straddle" }, OPTION);
    expect(bad.errorSchema).toHaveProperty("kind");
    expect(validator.isValid({ $ref: "#/$defs/Kind" }, "put", OPTION)).toBe(true);
    expect(validator.isValid({ $ref: "#/$defs/Kind" }, "straddle", OPTION)).toBe(false);
  });

  it("merges a custom validator's errors", () => {
    const result = validator.validateFormData({ spot: 1, volatility: 1 }, OPTION, (_data, errors) => {
      (errors as Record<string, any>).spot.addError("too cheap");
      return errors;
    });
    expect((result.errorSchema as Record<string, any>).spot.__errors).toEqual(["too cheap"]);
  });

  it("says so, rather than throwing, when a schema is unusable", () => {
    const { errors } = validator.validateFormData({}, { $ref: "#/nowhere" } as RJSFSchema);
    expect(errors[0]?.stack).toMatch(/cannot be used/);
  });
});

describe("paths", () => {
  it("turns JSON pointers into rjsf properties", () => {
    expect(propertyOf("#")).toBe("");
    expect(propertyOf("#/legs/0/weight")).toBe(".legs.0.weight");
    expect(propertyOf("#/a~1b")).toBe(".a/b");
  });

  it("drops the enclosing keywords of a failure", () => {
    const units = [
      { keyword: "properties", keywordLocation: "#/properties", instanceLocation: "#", error: "x" },
      { keyword: "type", keywordLocation: "#/properties/a/type", instanceLocation: "#/a", error: "y" },
    ];
    expect(leafErrors(units).map((unit) => unit.keyword)).toEqual(["type"]);
  });
});
