/** Deleting an agent, after a confirmation step that names it. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Agent } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";

export function DeleteAgent({ agent }: { agent: Agent }) {
  const api = useApi();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLDivElement>(null);
  const remove = useMutation({
    mutationFn: () => api.delete(`/agents/${encodeURIComponent(agent.id)}`),
    onSuccess: () => {
      queries.removeQueries({ queryKey: ["my-agent", agent.id] });
      void queries.invalidateQueries({ queryKey: ["my-agents"] });
      void queries.invalidateQueries({ queryKey: ["registry-search"] });
      navigate("/my/agents", { state: { deleted: agent.card.name } });
    },
  });
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Delete this agent
      </button>
    );
  }
  return (
    <div className="confirm stack" role="alertdialog" aria-labelledby="delete-title" aria-describedby="delete-text"
      tabIndex={-1} ref={confirmRef}>
      <h3 id="delete-title">Delete {agent.card.name}?</h3>
      <p id="delete-text">
        The agent, its card and its place in the vetting queue are removed for good; its status
        history stays as the audit trail. This cannot be undone.
      </p>
      <ErrorNotice error={remove.error} />
      <div className="agent-actions">
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          Yes, delete {agent.card.name}
        </button>
        <button type="button" className="secondary" onClick={() => setAsking(false)}>
          Keep it
        </button>
      </div>
    </div>
  );
}
