/** The agent card as a form, for registering and for editing. */
import { problemsAt, type CardDraft, type Problems } from "./cardDraft";
import { Field } from "./Field";
import { ToolFields } from "./ToolFields";

interface CardFormProps {
  draft: CardDraft;
  onChange: (draft: CardDraft) => void;
  problems: Problems;
}

export function CardForm({ draft, onChange, problems }: CardFormProps) {
  const text = (key: keyof CardDraft) => (value: string) => onChange({ ...draft, [key]: value });
  const at = (key: string) => problemsAt(problems, key);
  return (
    <div className="stack">
      <Field id="card-name" label="Name" value={draft.name} onChange={text("name")} messages={at("name")} required
        hint="1-64 characters: letters, digits, spaces, - _ ." />
      <Field id="card-description" label="Description" value={draft.description} onChange={text("description")}
        messages={at("description")} multiline rows={3} required />
      <div className="row">
        <Field id="card-version" label="Version" value={draft.version} onChange={text("version")}
          messages={at("version")} hint="Semantic version, e.g. 1.0.0" required />
        <Field id="card-tags" label="Tags" value={draft.tags} onChange={text("tags")} messages={at("tags")}
          hint="Up to 16, separated by commas: lowercase letters, digits, -" />
      </div>
      <fieldset>
        <legend>Deployment (a URL, an image, or both)</legend>
        <div className="row">
          <Field id="card-url" label="Endpoint URL" type="url" value={draft.url} onChange={text("url")}
            messages={[...at("deployment.url"), ...(problems["deployment"] ?? [])]} hint="https://…" />
          <Field id="card-image" label="Container image" value={draft.image} onChange={text("image")}
            messages={at("deployment.image")} />
          <Field id="card-region" label="Region" value={draft.region} onChange={text("region")}
            messages={at("deployment.region")} hint="e.g. us-central1" />
        </div>
      </fieldset>
      <Field id="card-docs" label="Documentation URL (optional)" type="url" value={draft.documentationUrl}
        onChange={text("documentationUrl")} messages={at("documentation_url")} />
      <ToolFields tools={draft.tools} onChange={(tools) => onChange({ ...draft, tools })} problems={problems} />
      <Field id="card-metadata" label="Metadata (optional JSON object)" value={draft.metadata}
        onChange={text("metadata")} messages={at("metadata")} multiline rows={3}
        hint='e.g. {"source": "agents/my-agent", "timeout_s": 30}' />
    </div>
  );
}
