import { describe, expect, it } from "vitest";
import { cardFromA2a, toolName } from "./a2a";

const a2a = {
  protocolVersion: "0.3.0",
  name: "Weather",
  description: "Forecasts",
  version: "2.0.0",
  url: "https://weather.example.com",
  provider: { organization: "Acme", url: "https://acme.example.com" },
  capabilities: { streaming: true, pushNotifications: false },
  documentationUrl: "https://docs.example.com",
  defaultInputModes: ["text/plain"],
  skills: [
    { id: "forecast", name: "Forecast", description: "Three days ahead", tags: ["Weather", "weather", "Long Range"] },
    { id: "7-day outlook", name: "Outlook", tags: ["bad tag!"] },
  ],
};

describe("cardFromA2a", () => {
  it("maps an A2A card as the platform's card_from_a2a does", () => {
    expect(cardFromA2a(a2a)).toEqual({
      name: "Weather",
      description: "Forecasts",
      version: "2.0.0",
      deployment: { url: "https://weather.example.com" },
      tags: ["weather", "long-range"],
      tools: [
        { name: "forecast", description: "Three days ahead", input_schema: { type: "object" } },
        { name: "skill_7-day_outlook", description: "Outlook", input_schema: { type: "object" } },
      ],
      provider: { organization: "Acme", url: "https://acme.example.com" },
      capabilities: { streaming: true, push_notifications: false, state_transition_history: false },
      documentation_url: "https://docs.example.com",
      metadata: { a2a: { protocolVersion: "0.3.0", defaultInputModes: ["text/plain"] } },
    });
  });

  it("leaves out what the A2A card lacks", () => {
    const card = cardFromA2a({ name: "X", description: "Y", version: "1.0.0", skills: [{ id: "go" }] });
    expect(card).toEqual({
      name: "X",
      description: "Y",
      version: "1.0.0",
      deployment: {},
      tags: [],
      tools: [{ name: "go", description: "", input_schema: { type: "object" } }],
    });
  });

  it("says in words what is not an A2A card", () => {
    expect(() => cardFromA2a([])).toThrow("JSON object");
    expect(() => cardFromA2a({ name: "X" })).toThrow("no skills");
  });
});

describe("toolName", () => {
  it("makes identifiers of free skill ids", () => {
    expect(toolName(" get weather ")).toBe("get_weather");
    expect(toolName("9lives")).toBe("skill_9lives");
    expect(toolName("x".repeat(80))).toHaveLength(64);
  });
});
