/** What the console adds around rjsf for a tool's input schema: layout hints and server errors. */
import { ErrorSchemaBuilder, type ErrorSchema, type RJSFSchema, type UiSchema } from "@rjsf/utils";
import { ApiError, problemsByField } from "../api/errors";

/** A draft of a tool's input schema the form can render: an object schema, or a message why not. */
export function formSchema(schema: unknown): { schema: RJSFSchema } | { problem: string } {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
    return { problem: "This tool has no input schema the console can turn into a form." };
  }
  const typed = schema as RJSFSchema;
  if (typed.type !== undefined && typed.type !== "object") {
    return { problem: "This tool's input is not an object, so the console cannot build a form for it." };
  }
  return { schema: { type: "object", ...typed } };
}

/**
 * The form's layout: the schema's own title is the page's heading already, numbers accept any
 * decimal, and rjsf's own submit button is replaced by the page's.
 */
export function uiSchemaFor(schema: RJSFSchema): UiSchema {
  const ui: UiSchema = { "ui:title": "", "ui:submitButtonOptions": { norender: true } };
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (typeof property === "object" && property.type === "number") {
      ui[name] = { "ui:options": { step: "any" } };
    }
  }
  return ui;
}

/**
 * The API's refusal of a payload as rjsf errors on the right fields: the executor answers
 * 400 INVALID_PAYLOAD with paths like `$.payload.spot`, and the gateway 422 with `$.body.payload.x`.
 */
export function serverErrors(error: unknown): ErrorSchema | undefined {
  if (!(error instanceof ApiError) || error.fieldProblems.length === 0) return undefined;
  const builder = new ErrorSchemaBuilder();
  for (const [key, messages] of Object.entries(problemsByField(error, "payload"))) {
    builder.addErrors(messages, key ? key.split(".") : undefined);
  }
  return builder.ErrorSchema;
}
