/** One agent: its card, its tools and their schemas, its health, and its manifest. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useApi, useConfig } from "../../api/context";
import type { Agent } from "../../api/types";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { JsonView, Loading, StatusBadge, formatTime } from "../../components/bits";

export default function AgentPage() {
  const { agentId = "" } = useParams();
  const api = useApi();
  const session = useSession();
  const agent = useQuery({
    queryKey: ["agent", agentId, session.user?.uid ?? null],
    queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(agentId)}`),
  });
  if (agent.isPending) return <Loading what="Loading the agent" />;
  if (agent.error) {
    return (
      <section>
        <h1>Agent</h1>
        <ErrorNotice error={agent.error} />
      </section>
    );
  }
  const { card } = agent.data;
  return (
    <section>
      <h1>
        {card.name} <StatusBadge status={agent.data.status} />
      </h1>
      <p>{card.description}</p>
      <dl className="facts">
        <dt>Version</dt>
        <dd>{card.version}</dd>
        <dt>Provider</dt>
        <dd>{card.provider?.organization ?? "—"}</dd>
        <dt>Tags</dt>
        <dd>{card.tags?.length ? card.tags.join(", ") : "—"}</dd>
        <dt>Deployment</dt>
        <dd>{card.deployment.url ?? card.deployment.image ?? "—"}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(agent.data.updated_at)}</dd>
        {card.documentation_url && (
          <>
            <dt>Documentation</dt>
            <dd>
              <a href={card.documentation_url} rel="noopener noreferrer">
                {card.documentation_url}
              </a>
            </dd>
          </>
        )}
        {agent.data.status_reason && (
          <>
            <dt>Status reason</dt>
            <dd>{agent.data.status_reason}</dd>
          </>
        )}
      </dl>
      {session.user && <Health agentId={agentId} />}
      <h2>Tools</h2>
      <ul className="cards" aria-label="Tools">
        {card.tools.map((tool) => (
          <li key={tool.name} className="card">
            <h3>{tool.name}</h3>
            <p>{tool.description}</p>
            {agent.data.status === "active" && (
              <p>
                <Link
                  to={`/agents/${encodeURIComponent(agentId)}/tools/${encodeURIComponent(tool.name)}`}
                >
                  Try {tool.name}
                </Link>
              </p>
            )}
            <details>
              <summary>Input schema</summary>
              <JsonView value={tool.input_schema} label={`Input schema of ${tool.name}`} />
            </details>
            {tool.output_schema && (
              <details>
                <summary>Output schema</summary>
                <JsonView value={tool.output_schema} label={`Output schema of ${tool.name}`} />
              </details>
            )}
          </li>
        ))}
      </ul>
      <Manifest agentId={agentId} />
    </section>
  );
}

function Health({ agentId }: { agentId: string }) {
  const api = useApi();
  const health = useQuery({
    queryKey: ["agent-health", agentId],
    queryFn: () => api.get<Record<string, unknown>>(`/agents/${encodeURIComponent(agentId)}/health`),
  });
  return (
    <>
      <h2>Health</h2>
      {health.isPending && <Loading what="Asking the agent" />}
      <ErrorNotice error={health.error} />
      {health.data && <JsonView value={health.data} label="Health" />}
    </>
  );
}

function Manifest({ agentId }: { agentId: string }) {
  const config = useConfig();
  const href = `${config.apiBase}/api/v1/agents/${encodeURIComponent(agentId)}/manifest`;
  return (
    <p>
      <a href={href} rel="noopener noreferrer">
        The agent's manifest (its card as JSON)
      </a>
    </p>
  );
}
