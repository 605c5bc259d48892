/** Syntax highlighting of generated files with Prism: which grammar a file takes, and its HTML. */
import "./prism-manual";
import Prism from "prismjs";
import "prismjs/components/prism-python";
import "prismjs/components/prism-toml";
import "prismjs/components/prism-json";
import "prismjs/components/prism-docker";
import "prismjs/components/prism-markdown";
import "prismjs/components/prism-yaml";
import "prismjs/components/prism-ini";

const BY_EXTENSION: Record<string, string> = {
  py: "python",
  toml: "toml",
  json: "json",
  md: "markdown",
  yaml: "yaml",
  yml: "yaml",
  cfg: "ini",
  ini: "ini",
};

/** The grammar for a path (`Dockerfile` → docker, `src/x.py` → python), or null for plain text. */
export function languageOf(path: string): string | null {
  const file = path.split("/").pop() ?? path;
  if (file === "Dockerfile" || file.endsWith(".dockerfile")) return "docker";
  const extension = file.includes(".") ? file.split(".").pop()!.toLowerCase() : "";
  return BY_EXTENSION[extension] ?? null;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The file as HTML: Prism's tokens (it escapes the text), or the text escaped when no grammar fits. */
export function highlight(path: string, code: string): string {
  const language = languageOf(path);
  const grammar = language ? Prism.languages[language] : undefined;
  return grammar && language ? Prism.highlight(code, grammar, language) : escapeHtml(code);
}
