/** The card form's tools: name, description, input and output JSON Schema as text. */
import { emptyTool, problemsAt, type Problems, type ToolDraft } from "./cardDraft";
import { Field } from "./Field";

interface ToolFieldsProps {
  tools: ToolDraft[];
  onChange: (tools: ToolDraft[]) => void;
  problems: Problems;
}

export function ToolFields({ tools, onChange, problems }: ToolFieldsProps) {
  const set = (index: number, change: Partial<ToolDraft>) =>
    onChange(tools.map((tool, i) => (i === index ? { ...tool, ...change } : tool)));
  return (
    <fieldset className="tools-fields">
      <legend>Tools</legend>
      {problems.tools?.length ? (
        <p className="field-error" role="alert">
          {problems.tools.join(" ")}
        </p>
      ) : null}
      {tools.map((tool, index) => {
        const at = `tools.${index}`;
        const label = `Tool ${index + 1}`;
        return (
          <div key={index} className="card stack tool-fields" role="group" aria-label={label}>
            <div className="row tool-head">
              <h3>{label}</h3>
              {tools.length > 1 && (
                <button type="button" className="ghost" onClick={() => onChange(tools.filter((_, i) => i !== index))}>
                  Remove tool {index + 1}
                </button>
              )}
            </div>
            <Field
              id={`tool-${index}-name`}
              label={`Tool ${index + 1} name`}
              value={tool.name}
              onChange={(name) => set(index, { name })}
              hint="A letter, then letters, digits, _ or - (up to 64)."
              messages={problemsAt(problems, `${at}.name`)}
              required
            />
            <Field
              id={`tool-${index}-description`}
              label={`Tool ${index + 1} description`}
              value={tool.description}
              onChange={(description) => set(index, { description })}
              messages={problemsAt(problems, `${at}.description`)}
              required
            />
            <Field
              id={`tool-${index}-input`}
              label={`Tool ${index + 1} input schema (JSON Schema)`}
              value={tool.inputSchema}
              onChange={(inputSchema) => set(index, { inputSchema })}
              hint='An object schema, draft 2020-12: {"type": "object", ...}.'
              messages={problemsAt(problems, `${at}.input_schema`)}
              multiline
              rows={6}
            />
            <Field
              id={`tool-${index}-output`}
              label={`Tool ${index + 1} output schema (optional)`}
              value={tool.outputSchema}
              onChange={(outputSchema) => set(index, { outputSchema })}
              messages={problemsAt(problems, `${at}.output_schema`)}
              multiline
              rows={4}
            />
          </div>
        );
      })}
      <button type="button" className="secondary" onClick={() => onChange([...tools, emptyTool()])}>
        Add a tool
      </button>
    </fieldset>
  );
}
