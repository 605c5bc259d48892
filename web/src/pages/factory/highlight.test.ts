import { describe, expect, it } from "vitest";
import { highlight, languageOf } from "./highlight";

describe("highlighting generated files", () => {
  it("picks the grammar from the file's name", () => {
    expect(languageOf("src/agora_word_counter/tool.py")).toBe("python");
    expect(languageOf("Dockerfile")).toBe("docker");
    expect(languageOf("pyproject.toml")).toBe("toml");
    expect(languageOf("agent-card.json")).toBe("json");
    expect(languageOf("LICENSE")).toBeNull();
  });

  it("marks tokens and never lets the file's text become markup", () => {
    const html = highlight("x.py", 'def f():\n    return "<script>alert(1)</script>"\n');
    expect(html).toContain('<span class="token keyword">def</span>');
    expect(html).not.toContain("<script>");
    expect(highlight("NOTES", "<b>&</b>")).toBe("&lt;b&gt;&amp;&lt;/b&gt;");
  });
});
