/**
 * The register/edit form's state and the card it makes. Text areas hold JSON as text, so a
 * schema that is not JSON is caught here, next to its field, before anything is sent.
 */
import type { AgentCard, ToolSpec } from "../../api/types";

export interface ToolDraft {
  name: string;
  description: string;
  inputSchema: string;
  outputSchema: string;
}

export interface CardDraft {
  name: string;
  description: string;
  version: string;
  /** Comma- or space-separated. */
  tags: string;
  url: string;
  image: string;
  region: string;
  documentationUrl: string;
  /** A JSON object as text, or empty for none. */
  metadata: string;
  tools: ToolDraft[];
  /** Card fields the form does not show (provider, capabilities), kept as they are. */
  rest: Record<string, unknown>;
}

/** Problems by field key, as `problemsByField` gives them (`tools.0.input_schema`). */
export type Problems = Record<string, string[]>;

export const STARTER_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}';

export function emptyTool(): ToolDraft {
  return { name: "", description: "", inputSchema: STARTER_SCHEMA, outputSchema: "" };
}

export function emptyDraft(): CardDraft {
  return {
    name: "",
    description: "",
    version: "1.0.0",
    tags: "",
    url: "",
    image: "",
    region: "",
    documentationUrl: "",
    metadata: "",
    tools: [emptyTool()],
    rest: {},
  };
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The form's state for a stored card (for editing). */
export function draftFromCard(card: AgentCard): CardDraft {
  const {
    name, description, version, tags, deployment, documentation_url, metadata, tools, ...rest
  } = card;
  return {
    name,
    description,
    version,
    tags: (tags ?? []).join(", "),
    url: deployment?.url ?? "",
    image: deployment?.image ?? "",
    region: deployment?.region ?? "",
    documentationUrl: documentation_url ?? "",
    metadata: metadata ? pretty(metadata) : "",
    tools: tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: pretty(tool.input_schema),
      outputSchema: tool.output_schema ? pretty(tool.output_schema) : "",
    })),
    rest: rest as Record<string, unknown>,
  };
}

/** Splits "a, b c" into ["a", "b", "c"]. */
export function splitTags(text: string): string[] {
  return text.split(/[\s,]+/).map((tag) => tag.trim()).filter(Boolean);
}

function parseObject(text: string, key: string, problems: Problems): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    (problems[key] ??= []).push("Must be a JSON object ({ ... }).");
  } catch (error) {
    (problems[key] ??= []).push(`Not valid JSON: ${(error as Error).message}`);
  }
  return undefined;
}

/**
 * The card the draft describes, or the problems that keep it from being one. Only what cannot
 * be sent is checked here (JSON that does not parse); the registry judges the rest, and its
 * 422 field problems come back to the same keys.
 */
export function buildCard(draft: CardDraft): { card?: AgentCard; problems: Problems } {
  const problems: Problems = {};
  const tools: ToolSpec[] = draft.tools.map((tool, index) => {
    const spec: ToolSpec = {
      name: tool.name.trim(),
      description: tool.description.trim(),
      input_schema: parseObject(tool.inputSchema, `tools.${index}.input_schema`, problems) ?? {},
    };
    if (tool.outputSchema.trim()) {
      const output = parseObject(tool.outputSchema, `tools.${index}.output_schema`, problems);
      if (output) spec.output_schema = output;
    }
    return spec;
  });
  const deployment: AgentCard["deployment"] = {};
  if (draft.url.trim()) deployment.url = draft.url.trim();
  if (draft.image.trim()) deployment.image = draft.image.trim();
  if (draft.region.trim()) deployment.region = draft.region.trim();
  const card: AgentCard = {
    ...draft.rest,
    name: draft.name.trim(),
    description: draft.description.trim(),
    version: draft.version.trim(),
    tools,
    deployment,
    tags: splitTags(draft.tags),
  };
  if (draft.documentationUrl.trim()) card.documentation_url = draft.documentationUrl.trim();
  if (draft.metadata.trim()) {
    const metadata = parseObject(draft.metadata, "metadata", problems);
    if (metadata) card.metadata = metadata;
  }
  return Object.keys(problems).length ? { problems } : { card, problems };
}

/** An absent field and an empty list read the same (the registry stores `tags: []`). */
const same = (value: unknown) =>
  JSON.stringify(value === undefined || (Array.isArray(value) && !value.length) ? null : value);

/** The top-level fields that differ, for a PATCH (`null` removes an optional field). */
export function cardPatch(before: AgentCard, after: AgentCard): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const was = (before as unknown as Record<string, unknown>)[key];
    const now = (after as unknown as Record<string, unknown>)[key];
    if (same(was) !== same(now)) patch[key] = now ?? null;
  }
  return patch;
}

/** The messages for a field and everything below it (`tools.0.input_schema.properties.x`). */
export function problemsAt(problems: Problems, key: string): string[] {
  return Object.entries(problems).flatMap(([at, messages]) =>
    at === key || at.startsWith(key + ".") ? messages : [],
  );
}
