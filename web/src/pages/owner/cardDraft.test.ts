import { describe, expect, it } from "vitest";
import type { AgentCard } from "../../api/types";
import {
  buildCard,
  cardPatch,
  draftFromCard,
  emptyDraft,
  problemsAt,
  splitTags,
} from "./cardDraft";

const stored: AgentCard = {
  name: "QuantFlow",
  description: "Quantitative finance tools",
  version: "1.0.0",
  tags: ["finance", "options"],
  deployment: { url: "https://quantflow.example.com" },
  capabilities: { streaming: false, push_notifications: false, state_transition_history: false },
  tools: [
    {
      name: "black_scholes",
      description: "Price a European option",
      input_schema: { type: "object", properties: { spot: { type: "number" } } },
    },
  ],
};

describe("buildCard", () => {
  it("makes a card from the form, trimmed, with tags split and empty fields left out", () => {
    const draft = {
      ...emptyDraft(),
      name: " Pricer ",
      description: "Prices",
      tags: "finance, options  fx",
      url: "https://pricer.example.com",
      tools: [
        {
          name: "price",
          description: "Price it",
          inputSchema: '{"type": "object"}',
          outputSchema: '{"type": "number"}',
        },
      ],
    };
    const { card, problems } = buildCard(draft);
    expect(problems).toEqual({});
    expect(card).toEqual({
      name: "Pricer",
      description: "Prices",
      version: "1.0.0",
      tags: ["finance", "options", "fx"],
      deployment: { url: "https://pricer.example.com" },
      tools: [
        {
          name: "price",
          description: "Price it",
          input_schema: { type: "object" },
          output_schema: { type: "number" },
        },
      ],
    });
  });

  it("names the field whose JSON does not parse or is not an object", () => {
    const draft = emptyDraft();
    draft.tools = [
      { name: "a", description: "a", inputSchema: "{nope", outputSchema: "" },
      { name: "b", description: "b", inputSchema: "[1]", outputSchema: "{" },
    ];
    draft.metadata = "3";
    const { card, problems } = buildCard(draft);
    expect(card).toBeUndefined();
    expect(Object.keys(problems).sort()).toEqual([
      "metadata",
      "tools.0.input_schema",
      "tools.1.input_schema",
      "tools.1.output_schema",
    ]);
    expect(problems["tools.0.input_schema"][0]).toMatch(/^Not valid JSON/);
    expect(problems["tools.1.input_schema"][0]).toBe("Must be a JSON object ({ ... }).");
  });

  it("round-trips a stored card, keeping the fields the form does not show", () => {
    const { card } = buildCard(draftFromCard(stored));
    expect(card).toEqual(stored);
    expect(cardPatch(stored, card!)).toEqual({});
  });
});

describe("cardPatch", () => {
  it("holds only the changed top-level fields, null for a removed one", () => {
    const after: AgentCard = { ...stored, description: "New", tags: [], documentation_url: "https://d.example.com" };
    expect(cardPatch(stored, after)).toEqual({
      description: "New",
      tags: [],
      documentation_url: "https://d.example.com",
    });
    const { capabilities: _, ...without } = stored;
    expect(cardPatch(stored, without)).toEqual({ capabilities: null });
  });

  it("does not count an empty tag list against an absent one", () => {
    const { tags: _, ...untagged } = stored;
    expect(cardPatch(untagged, { ...untagged, tags: [] })).toEqual({});
  });
});

describe("problemsAt and splitTags", () => {
  it("gathers a field's problems and those below it", () => {
    const problems = {
      "tools.0.input_schema.properties.x.type": ["bad type"],
      "tools.0.input_schema": ["not an object schema"],
      "tools.0.name": ["bad name"],
      "tools.10.name": ["other tool"],
    };
    expect(problemsAt(problems, "tools.0.input_schema")).toEqual(["bad type", "not an object schema"]);
    expect(problemsAt(problems, "tools.1.name")).toEqual([]);
    expect(problemsAt(problems, "tools.0.name")).toEqual(["bad name"]);
  });

  it("splits on commas and spaces", () => {
    expect(splitTags(" a,b  c ,, ")).toEqual(["a", "b", "c"]);
    expect(splitTags("")).toEqual([]);
  });
});
