/** The Tool Factory: a specification, then a job that generates, formats, checks and stores it. */
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { useApi } from "../../api/context";
import type { FactoryJob } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { SpecField } from "./SpecField";
import { KIND_FIELDS, buildRequest, exampleDraft, problemsByFormField, type Kind, type Problems, type SpecDraft } from "./spec";
import "./factory.css";

const KINDS: Array<{ kind: Kind; label: string; hint: string }> = [
  { kind: "python", label: "Python", hint: "one tool from two JSON Schemas; you write its body" },
  { kind: "http", label: "HTTP API", hint: "one tool per operation of an OpenAPI document" },
  { kind: "llm", label: "Written by a model", hint: "your own provider key writes the body" },
];

const LABELS: Record<string, { label: string; hint?: string; rows?: number }> = {
  input_schema: { label: "Input schema (JSON)", hint: "draft 2020-12, an object schema", rows: 9 },
  output_schema: { label: "Output schema (JSON)", hint: "what the tool answers", rows: 7 },
  openapi: { label: "OpenAPI document", hint: "JSON or YAML, OpenAPI 3.0 or 3.1, at most 256 KiB", rows: 12 },
  operation_ids: { label: "Operation ids", hint: "comma-separated, 1 to 20" },
  base_url: { label: "Base URL (optional)", hint: "instead of the document's first server" },
  provider: { label: "Provider" },
  model: { label: "Model", hint: "e.g. gpt-4o-mini" },
};

export default function FactoryPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [draft, setDraft] = useState<SpecDraft>(exampleDraft);
  const [local, setLocal] = useState<Problems>({});
  const generate = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.post<FactoryJob>("/tools/generate", body),
    onSuccess: (job) => navigate(`/factory/jobs/${encodeURIComponent(job.job_id)}`),
  });
  const problems = { ...problemsByFormField(generate.error), ...local };
  const set = (field: keyof SpecDraft) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [field]: event.target.value });

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildRequest(draft);
    setLocal("problems" in built ? built.problems : {});
    if ("body" in built) generate.mutate(built.body);
  }

  const text = (field: keyof SpecDraft) => (
    <SpecField key={field} name={field} label={LABELS[field]?.label ?? field} hint={LABELS[field]?.hint} problems={problems[field]}>
      {(props) =>
        LABELS[field]?.rows ? (
          <textarea {...props} rows={LABELS[field].rows} spellCheck={false} className="code-input" value={draft[field]} onChange={set(field)} />
        ) : field === "provider" ? (
          <select {...props} value={draft.provider} onChange={set("provider")}>
            <option value="openai">OpenAI</option>
            <option value="groq">Groq</option>
            <option value="mistral">Mistral</option>
          </select>
        ) : (
          <input {...props} value={draft[field]} onChange={set(field)} />
        )
      }
    </SpecField>
  );

  return (
    <section>
      <h1>Tool Factory</h1>
      <p>
        Describe a tool and the factory writes its package: the code, its tests, a Dockerfile and
        an agent card. It is formatted, scanned and tested before you can download or submit it.
      </p>
      <form className="spec-form" onSubmit={submit} noValidate>
        <fieldset className="kinds">
          <legend>Kind</legend>
          {KINDS.map(({ kind, label, hint }) => (
            <label key={kind} className="inline">
              <input type="radio" name="kind" value={kind} checked={draft.kind === kind} onChange={() => setDraft({ ...draft, kind })} />
              {label} <span className="muted small">({hint})</span>
            </label>
          ))}
        </fieldset>
        {(["name", "description", "version", "tags"] as const).map((field) => (
          <SpecField
            key={field}
            name={field}
            label={{ name: "Name", description: "Description", version: "Version", tags: "Tags" }[field]}
            hint={{ name: "letters, digits, spaces, - and _", description: undefined, version: "semantic, e.g. 1.0.0", tags: "comma-separated, lowercase" }[field]}
            problems={problems[field]}
          >
            {(props) => <input {...props} value={draft[field]} onChange={set(field)} />}
          </SpecField>
        ))}
        {KIND_FIELDS[draft.kind].map(text)}
        <ErrorNotice error={generate.error} />
        <button type="submit" disabled={generate.isPending}>
          {generate.isPending ? "Starting…" : "Generate the tool"}
        </button>
      </form>
    </section>
  );
}
