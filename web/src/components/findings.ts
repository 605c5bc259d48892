import type { Finding } from "../api/types";
/** One scan finding as a line: severity, scanner and rule, where, and what. */
export function findingLine(finding: Finding): string {
  const text = (key: string) => (typeof finding[key] === "string" || typeof finding[key] === "number" ? String(finding[key]) : "");
  const where = text("path") ? `${text("path")}${text("line") ? `:${text("line")}` : ""}` : "";
  const head = [text("severity").toUpperCase(), [text("scanner") || text("check"), text("rule_id")].filter(Boolean).join(" ")]
    .filter(Boolean)
    .join(" · ");
  const message = text("message") || text("reason") || JSON.stringify(finding);
  return [head, where, message].filter(Boolean).join(" — ");
}
