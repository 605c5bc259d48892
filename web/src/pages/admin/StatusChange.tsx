/** Suspend or reinstate an agent that is already out of the queue: found by its id. */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Agent } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, StatusBadge } from "../../components/bits";
import { DecisionForm } from "./DecisionForm";
import type { Action } from "./decisions";
import type { Decision } from "./types";

export function StatusChange({ onDecided }: { onDecided: (name: string, d: Decision, a: Action) => void }) {
  const api = useApi();
  const [draft, setDraft] = useState("");
  const [agentId, setAgentId] = useState("");
  const agent = useQuery({
    queryKey: ["agent", agentId, "admin"],
    queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(agentId)}`),
    enabled: agentId !== "",
    retry: false,
  });

  function find(event: FormEvent) {
    event.preventDefault();
    setAgentId(draft.trim());
  }

  return (
    <section aria-labelledby="status-change">
      <h2 id="status-change">Suspend or reinstate an agent</h2>
      <form className="row" onSubmit={find}>
        <label>
          Agent ID
          <input value={draft} onChange={(event) => setDraft(event.target.value)} spellCheck={false} />
        </label>
        <button type="submit" className="secondary">
          Find the agent
        </button>
      </form>
      {agentId && agent.isPending && <Loading what="Reading the agent" />}
      <ErrorNotice error={agent.error} />
      {agent.data && (
        <div className="card" data-agent={agent.data.id}>
          <h3>
            <Link to={`/agents/${agent.data.id}`}>{agent.data.card.name}</Link> <StatusBadge status={agent.data.status} />
          </h3>
          {agent.data.status_reason && <p className="small">Last reason: {agent.data.status_reason}</p>}
          <DecisionForm
            key={agent.data.status}
            agentId={agent.data.id}
            name={agent.data.card.name}
            status={agent.data.status}
            onDecided={(decision, action) => {
              onDecided(agent.data.card.name, decision, action);
              void agent.refetch();
            }}
          />
        </div>
      )}
    </section>
  );
}
