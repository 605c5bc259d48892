/**
 * The Tool Factory's specification form: what a person types, and the `POST /tools/generate`
 * body it becomes. JSON fields are parsed here so a typo is said at its field before anything
 * is sent; the API's own refusals are grouped by the same fields.
 */
import { ApiError, problemsByField } from "../../api/errors";

export type Kind = "python" | "http" | "llm";

export interface SpecDraft {
  kind: Kind;
  name: string;
  description: string;
  version: string;
  tags: string;
  input_schema: string;
  output_schema: string;
  openapi: string;
  operation_ids: string;
  base_url: string;
  provider: string;
  model: string;
}

/** The fields each kind uses, in the form's order (the others are neither shown nor sent). */
export const KIND_FIELDS: Record<Kind, Array<keyof SpecDraft>> = {
  python: ["input_schema", "output_schema"],
  llm: ["input_schema", "output_schema", "provider", "model"],
  http: ["openapi", "operation_ids", "base_url"],
};

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** A filled-in example: a tool that counts the words of a text. */
export function exampleDraft(): SpecDraft {
  return {
    kind: "python",
    name: "Word Counter",
    description: "Counts the words and characters of a text.",
    version: "1.0.0",
    tags: "text",
    input_schema: pretty({
      type: "object",
      properties: { text: { type: "string", maxLength: 10000, description: "The text to count" } },
      required: ["text"],
    }),
    output_schema: pretty({
      type: "object",
      properties: { words: { type: "integer" }, characters: { type: "integer" } },
      required: ["words", "characters"],
    }),
    openapi: "",
    operation_ids: "",
    base_url: "",
    provider: "openai",
    model: "gpt-4o-mini",
  };
}

export type Problems = Record<string, string[]>;

const list = (text: string) =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

function parseObject(text: string, field: string, problems: Problems): unknown {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems[field] = ["must be a JSON object"];
    }
    return value;
  } catch (error) {
    problems[field] = [`is not valid JSON: ${(error as Error).message}`];
    return undefined;
  }
}

/** The request body, or the problems that stop it, keyed by field. */
export function buildRequest(
  draft: SpecDraft,
): { body: Record<string, unknown> } | { problems: Problems } {
  const problems: Problems = {};
  const body: Record<string, unknown> = {
    kind: draft.kind,
    name: draft.name.trim(),
    description: draft.description.trim(),
    version: draft.version.trim() || "1.0.0",
    tags: list(draft.tags),
  };
  for (const field of KIND_FIELDS[draft.kind]) {
    const text = draft[field].trim();
    if (field === "input_schema" || field === "output_schema") {
      if (!text) problems[field] = ["Required"];
      else body[field] = parseObject(text, field, problems);
    } else if (field === "openapi") {
      // JSON or YAML text: the API reads both, so a JSON object is sent as one and YAML as text.
      if (!text) problems[field] = ["Required"];
      else body.openapi = text.startsWith("{") ? parseObject(text, field, problems) : text;
    } else if (field === "operation_ids") {
      if (list(text).length === 0) problems[field] = ["Name at least one operation id"];
      else body.operation_ids = list(text);
    } else if (text) {
      body[field] = text;
    }
  }
  return Object.keys(problems).length ? { problems } : { body };
}

/**
 * The API's refusal grouped by form field: `$.body.input_schema.properties.x` belongs to the
 * input schema's text area, said with the path inside it.
 */
export function problemsByFormField(error: unknown): Problems {
  if (!(error instanceof ApiError)) return {};
  const grouped: Problems = {};
  for (const [key, messages] of Object.entries(problemsByField(error))) {
    const [field = "", ...inner] = key.split(".");
    const where = inner.length ? `at ${inner.join(".")}: ` : "";
    (grouped[field] ??= []).push(...messages.map((message) => where + message));
  }
  return grouped;
}
