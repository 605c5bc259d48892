/** One of the user's own agents: status and reason, vetting, edit (and resubmit), delete. */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../../api/context";
import { toApiError } from "../../api/errors";
import type { Agent } from "../../api/types";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, StatusBadge, formatTime } from "../../components/bits";
import { DeleteAgent } from "./DeleteAgent";
import { EditAgent } from "./EditAgent";
import { VettingPanel } from "./VettingPanel";
import "./owner.css";

const STATUS_HELP: Record<string, string> = {
  "pending-vetting": "Waiting for vetting: it is scanned by itself, then an admin decides. Only you and admins see it.",
  vetted: "Approved: it is being deployed, and goes active when its deployed revision answers.",
  active: "Live: everyone can find and use it.",
  suspended: "Suspended by an admin: nobody can use it until it is reinstated.",
  rejected: "Rejected: see the reason, change the card and save to resubmit it.",
};

export default function MyAgentPage() {
  const { agentId = "" } = useParams();
  const api = useApi();
  const session = useSession();
  const [editing, setEditing] = useState(false);
  const agent = useQuery({
    queryKey: ["my-agent", agentId],
    queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(agentId)}`),
    staleTime: 0, // an admin may have decided since: read again on every visit
    refetchInterval: (query) =>
      ["pending-vetting", "vetted"].includes(query.state.data?.status ?? "") ? 5_000 : false,
  });
  const rejectedNow = agent.data?.status === "rejected";
  useEffect(() => {
    if (rejectedNow) setEditing(true); // the form stays open through the resubmission
  }, [rejectedNow]);
  if (agent.isPending) return <Loading what="Loading the agent" />;
  if (agent.error || agent.data.owner_uid !== session.user?.uid) {
    const status = agent.error ? toApiError(agent.error).status : 403;
    return (
      <section>
        <h1>My agent</h1>
        <p className="notice notice-error" role="alert">
          {status === 404
            ? "There is no agent of yours with this address. It may have been deleted, or it belongs to someone else."
            : status === 403
              ? "This agent is not one of yours, so you cannot manage it here."
              : "The agent could not be loaded."}
        </p>
        {agent.error && status !== 404 && <ErrorNotice error={agent.error} />}
        <p>
          <Link to="/my/agents">Your agents</Link>
          {status === 403 && (
            <>
              {" · "}
              <Link to={`/agents/${agentId}`}>its public page</Link>
            </>
          )}
        </p>
      </section>
    );
  }
  const { card, status } = agent.data;
  const rejected = status === "rejected";
  return (
    <section>
      <h1>
        {card.name} <StatusBadge status={status} />
      </h1>
      <p>{STATUS_HELP[status]}</p>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={status} />
        </dd>
        <dt>Status reason</dt>
        <dd data-testid="status-reason">{agent.data.status_reason || "—"}</dd>
        <dt>Version</dt>
        <dd>{card.version}</dd>
        <dt>Tools</dt>
        <dd>{card.tools.map((tool) => tool.name).join(", ")}</dd>
        <dt>Deployment</dt>
        <dd>{card.deployment.url ?? card.deployment.image ?? "—"}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(agent.data.updated_at)}</dd>
      </dl>
      {status === "active" && (
        <p>
          <Link to={`/agents/${agentId}`}>Its page in the directory</Link>
        </p>
      )}
      <VettingPanel agentId={agentId} status={status} />
      <h2>{rejected ? "Change and resubmit" : "Edit"}</h2>
      {editing ? (
        <EditAgent agent={agent.data} />
      ) : (
        <button type="button" className="secondary" onClick={() => setEditing(true)}>
          Edit the card
        </button>
      )}
      <h2>Delete</h2>
      <DeleteAgent agent={agent.data} />
    </section>
  );
}
