/**
 * The schema validator behind every generated form. rjsf's usual validator (ajv) compiles each
 * schema into a function with `new Function`, which the console's Content-Security-Policy forbids
 * (no 'unsafe-eval'); @cfworker/json-schema interprets schemas instead, so this adapter gives
 * rjsf the same `ValidatorType` on top of it.
 */
import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import {
  createErrorHandler,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from "@rjsf/utils";

const REQUIRED = /required property "([^"]+)"/;

/** JSON pointer `#/a/0/b` → rjsf property `.a.0.b` (`""` for the root). */
export function propertyOf(instanceLocation: string): string {
  const parts = instanceLocation
    .replace(/^#/, "")
    .split("/")
    .filter(Boolean)
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.map((part) => `.${part}`).join("");
}

/**
 * The errors a person can act on: cfworker also reports every enclosing keyword
 * ("properties", "allOf", ...) of a failure; only the innermost ones are kept.
 */
export function leafErrors(units: OutputUnit[]): OutputUnit[] {
  return units.filter(
    (unit) =>
      !units.some(
        (other) => other !== unit && other.keywordLocation.startsWith(`${unit.keywordLocation}/`),
      ),
  );
}

export function toRjsfError(unit: OutputUnit): RJSFValidationError {
  const missing = unit.keyword === "required" ? REQUIRED.exec(unit.error) : null;
  const property = propertyOf(unit.instanceLocation) + (missing ? `.${missing[1]}` : "");
  const message = missing ? "Required" : unit.error;
  return {
    name: unit.keyword,
    property,
    message,
    schemaPath: unit.keywordLocation,
    stack: `${property || "the form"} ${message}`.trim(),
  };
}

function withDefinitions(schema: RJSFSchema, root: RJSFSchema | undefined): Schema {
  if (!root || root === schema) return schema as Schema;
  // The root's $defs/definitions resolve the sub-schema's $refs; nothing else of the root applies.
  const { $defs, definitions } = root;
  return { ...($defs && { $defs }), ...(definitions && { definitions }), ...schema } as Schema;
}

export class InterpretingValidator implements ValidatorType {
  private readonly cache = new WeakMap<object, Validator>();

  private validatorFor(schema: Schema): Validator {
    let validator = this.cache.get(schema);
    if (!validator) {
      validator = new Validator(schema, "2020-12", false);
      this.cache.set(schema, validator);
    }
    return validator;
  }

  rawValidation<Result = RJSFValidationError>(
    schema: RJSFSchema,
    formData?: unknown,
  ): { errors?: Result[]; validationError?: Error } {
    try {
      const result = this.validatorFor(schema as Schema).validate(formData ?? {});
      return { errors: leafErrors(result.errors).map(toRjsfError) as Result[] };
    } catch (error) {
      return { errors: [], validationError: error as Error };
    }
  }

  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    const { errors: raw = [], validationError } = this.rawValidation(schema, formData);
    let errors = raw;
    if (validationError) {
      errors = [{ stack: `The tool's schema cannot be used: ${validationError.message}` }];
    }
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const data = { errors, errorSchema: toErrorSchema(errors) };
    if (!customValidate) return data;
    const handler = customValidate(formData, createErrorHandler(formData), uiSchema);
    return validationDataMerge(data, unwrapErrorHandler(handler));
  }

  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      return this.validatorFor(withDefinitions(schema, rootSchema)).validate(formData).valid;
    } catch {
      return false;
    }
  }
}

export const validator = new InterpretingValidator();
