// The size budget: the JavaScript the first page (/ → /agents, the directory) loads, gzipped.
// Walks Vite's build manifest from index.html and the directory page through their static
// imports, so lazily loaded pages do not count (an entry not in the build, such as a page still
// to come, adds nothing). Fails above the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 300;
const FIRST_PAGE = ["index.html", "src/pages/directory/DirectoryPage.tsx"];
const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));

const files = new Set();
function walk(key) {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const next of chunk.imports ?? []) walk(next);
}
FIRST_PAGE.forEach(walk);

let raw = 0;
let gzipped = 0;
for (const file of [...files].filter((name) => name.endsWith(".js"))) {
  const bytes = readFileSync(new URL(file, dist));
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1);
console.log(
  `first page JavaScript: ${files.size} files, ${kb(raw)} KB raw, ${kb(gzipped)} KB gzipped ` +
    `(budget ${BUDGET_KB} KB gzipped)`,
);
if (gzipped > BUDGET_KB * 1024) {
  console.error(`over the budget by ${kb(gzipped - BUDGET_KB * 1024)} KB`);
  process.exit(1);
}
