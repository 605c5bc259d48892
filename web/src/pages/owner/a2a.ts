/**
 * An A2A AgentCard (camelCase JSON) as our card, mapped in the browser as the platform's own
 * `agora_common.models.card_from_a2a` maps it: the public API has no import route, so the
 * console sends the mapped card to `POST /agents/register` and the registry judges it.
 */
import type { AgentCard, ToolSpec } from "../../api/types";

/** A2A skills carry no input schema: their input is a free-form message. */
export const FREE_FORM_INPUT = { type: "object" } as const;
const KEPT_FIELDS = ["protocolVersion", "defaultInputModes", "defaultOutputModes", "preferredTransport"];
const NOT_TOOL_NAME = /[^A-Za-z0-9_-]/g;
const TAG = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const MAX_TAGS = 16;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  !!value && typeof value === "object" && !Array.isArray(value);

/** A2A skill ids are free strings; tool names are identifiers. */
export function toolName(skillId: string): string {
  const name = skillId.trim().replace(NOT_TOOL_NAME, "_").slice(0, 64);
  return /^[A-Za-z]/.test(name) ? name : `skill_${name}`.slice(0, 64);
}

function tagsOf(skills: Json[]): string[] {
  const tags: string[] = [];
  for (const skill of skills) {
    const own = Array.isArray(skill.tags) ? skill.tags : [];
    for (const raw of own) {
      const tag = String(raw).trim().toLowerCase().replaceAll(" ", "-");
      if (TAG.test(tag) && !tags.includes(tag) && tags.length < MAX_TAGS) tags.push(tag);
    }
  }
  return tags;
}

const text = (value: unknown) => (typeof value === "string" ? value : value == null ? "" : String(value));

/** Our card for an A2A card; throws an Error in words when the input is not an A2A card. */
export function cardFromA2a(a2a: unknown): AgentCard {
  if (!isObject(a2a)) throw new Error("An A2A agent card is a JSON object.");
  const skills = (Array.isArray(a2a.skills) ? a2a.skills : []).filter(isObject);
  if (!skills.length) throw new Error("The A2A card has no skills: an agent needs at least one tool.");
  const tools: ToolSpec[] = skills.map((skill) => ({
    name: toolName(text(skill.id) || text(skill.name)),
    description: text(skill.description) || text(skill.name),
    input_schema: { ...FREE_FORM_INPUT },
  }));
  const card: AgentCard = {
    name: text(a2a.name),
    description: text(a2a.description),
    version: text(a2a.version),
    tools,
    deployment: typeof a2a.url === "string" && a2a.url ? { url: a2a.url } : {},
    tags: tagsOf(skills),
  };
  if (isObject(a2a.provider)) {
    const { organization, url } = a2a.provider;
    card.provider = { organization: text(organization), ...(url !== undefined ? { url: text(url) } : {}) };
  }
  if (isObject(a2a.capabilities)) {
    const c = a2a.capabilities;
    card.capabilities = {
      streaming: !!c.streaming,
      push_notifications: !!c.pushNotifications,
      state_transition_history: !!c.stateTransitionHistory,
    };
  }
  if (typeof a2a.documentationUrl === "string" && a2a.documentationUrl) {
    card.documentation_url = a2a.documentationUrl;
  }
  const kept = Object.fromEntries(KEPT_FIELDS.filter((name) => name in a2a).map((name) => [name, a2a[name]]));
  if (Object.keys(kept).length) card.metadata = { a2a: kept };
  return card;
}
