/** Try a tool: a form generated from its input schema, run through the gateway, and the result. */
import { useMutation, useQuery } from "@tanstack/react-query";
import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Agent, Execution } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, StatusBadge } from "../../components/bits";
import { formSchema, serverErrors, uiSchemaFor } from "../../forms/schemaForm";
import { validator } from "../../forms/validator";
import "../../forms/form.css";
import { ResultView } from "./ResultView";
import { formatDuration } from "./result";

export default function TryToolPage() {
  const { agentId = "", toolName = "" } = useParams();
  const api = useApi();
  const agent = useQuery({
    queryKey: ["agent", agentId, "try"],
    queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(agentId)}`),
  });
  const tool = agent.data?.card.tools.find((candidate) => candidate.name === toolName);
  return (
    <section>
      <h1>
        Try {toolName}
        {agent.data && <span className="muted"> on {agent.data.card.name}</span>}
      </h1>
      <p>
        <Link to={`/agents/${encodeURIComponent(agentId)}`}>Back to the agent</Link>
      </p>
      {agent.isPending && <Loading what="Loading the agent" />}
      <ErrorNotice error={agent.error} />
      {agent.data && !tool && (
        <p className="notice notice-error" role="alert">
          This agent has no tool named “{toolName}”.
        </p>
      )}
      {agent.data && tool && (
        <>
          <p>{tool.description}</p>
          {agent.data.status !== "active" && (
            <p className="notice">
              The agent is <StatusBadge status={agent.data.status} />: only active agents run
              tools.
            </p>
          )}
          <ToolForm agentId={agentId} toolName={tool.name} inputSchema={tool.input_schema} />
        </>
      )}
    </section>
  );
}

interface ToolFormProps {
  agentId: string;
  toolName: string;
  inputSchema: Record<string, unknown>;
}

function ToolForm({ agentId, toolName, inputSchema }: ToolFormProps) {
  const api = useApi();
  const [payload, setPayload] = useState<Record<string, unknown>>({});
  const prepared = useMemo(() => formSchema(inputSchema), [inputSchema]);
  const run = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api.post<Execution>("/agents/execute", { agent_id: agentId, tool_name: toolName, payload: body }),
  });
  if ("problem" in prepared) return <p className="notice notice-error">{prepared.problem}</p>;

  const submit = ({ formData }: IChangeEvent<Record<string, unknown>>) => run.mutate(formData ?? {});
  const change = ({ formData }: IChangeEvent<Record<string, unknown>>) => {
    setPayload(formData ?? {});
    if (run.error) run.reset(); // the API's field errors belong to the values it was sent
  };
  return (
    <>
      <Form
        className="schema-form"
        schema={prepared.schema}
        uiSchema={uiSchemaFor(prepared.schema)}
        validator={validator}
        formData={payload}
        onChange={change}
        onSubmit={submit}
        extraErrors={serverErrors(run.error)}
        showErrorList={false}
        noHtml5Validate
      >
        <button type="submit" disabled={run.isPending}>
          {run.isPending ? "Running…" : `Run ${toolName}`}
        </button>
      </Form>
      <ErrorNotice error={run.error} />
      {run.data && <Outcome execution={run.data} />}
    </>
  );
}

function Outcome({ execution }: { execution: Execution }) {
  return (
    <section aria-labelledby="outcome" className="outcome" aria-live="polite">
      <h2 id="outcome">{execution.status === "succeeded" ? "Result" : "The tool refused"}</h2>
      <dl className="facts">
        <dt>Duration</dt>
        <dd data-testid="duration">{formatDuration(execution.duration_ms)}</dd>
        <dt>Execution id</dt>
        <dd>
          <code>{execution.execution_id}</code>
        </dd>
      </dl>
      {execution.status === "succeeded" ? (
        <ResultView result={execution.result} />
      ) : (
        <p className="notice notice-error" role="alert">
          {execution.error?.message ?? "The tool did not succeed."}
          {execution.error?.code && <span className="muted"> ({execution.error.code})</span>}
        </p>
      )}
    </section>
  );
}
