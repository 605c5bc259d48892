/** The generated files, one at a time, highlighted. */
import { useMemo, useState } from "react";
import { highlight } from "./highlight";

export function FilePreview({ files }: { files: Record<string, string> }) {
  const paths = useMemo(() => Object.keys(files).sort(), [files]);
  // The file a person reads first: the tool's body (a model's, or the one left to write).
  const [shown, setShown] = useState(
    () => paths.find((p) => p.endsWith("/implementation.py")) ??
      paths.find((p) => p.endsWith("/agent.py")) ??
      paths.find((p) => p.endsWith(".py")) ?? paths[0] ?? "",
  );
  const html = useMemo(() => highlight(shown, files[shown] ?? ""), [files, shown]);
  return (
    <>
      <ul className="file-list" aria-label="Generated files">
        {paths.map((path) => (
          <li key={path}>
            <button type="button" aria-pressed={path === shown} onClick={() => setShown(path)}>
              {path}
            </button>
          </li>
        ))}
      </ul>
      <pre className="code-view" aria-label={`The file ${shown}`} tabIndex={0}>
        {/* Prism's output: the file's text with every character escaped, inside token spans. */}
        <code dangerouslySetInnerHTML={{ __html: html }} />
      </pre>
    </>
  );
}
