/** The signed-in user's own agents, in every status, with badges and a way to register more. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useLocation } from "react-router-dom";
import { useApi } from "../../api/context";
import type { AgentSummary, Page } from "../../api/types";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading, StatusBadge, formatTime } from "../../components/bits";
import "./owner.css";

export default function MyAgentsPage() {
  const api = useApi();
  const session = useSession();
  const deleted = (useLocation().state as { deleted?: string } | null)?.deleted;
  const results = useInfiniteQuery({
    queryKey: ["my-agents", session.user?.uid ?? null],
    queryFn: ({ pageParam }) =>
      api.get<Page<AgentSummary>>("/registry/search", { owner: "me", limit: 50, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: 0, // statuses change by others' hands (vetting): read again on every visit
  });
  const agents = results.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section>
      <div className="row page-head">
        <h1>My agents</h1>
        <Link className="button" to="/my/agents/new">
          Register an agent
        </Link>
      </div>
      <p className="muted">Every agent you registered, whatever its status. Only active agents are listed for others.</p>
      {deleted && (
        <p className="notice notice-ok" role="status">
          {deleted} was deleted.
        </p>
      )}
      <ErrorNotice error={results.error} />
      {results.isPending && <Loading what="Loading your agents" />}
      {results.isSuccess && agents.length === 0 && (
        <Empty>
          You have no agents yet. <Link to="/my/agents/new">Register your first agent</Link>.
        </Empty>
      )}
      {agents.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="muted small">Your agents, by name</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">Tools</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <Link to={`/my/agents/${agent.id}`}>{agent.name}</Link>
                  </td>
                  <td>
                    <StatusBadge status={agent.status} />
                  </td>
                  <td>{agent.version}</td>
                  <td>{agent.tools.map((tool) => tool.name).join(", ")}</td>
                  <td>{formatTime(agent.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {results.hasNextPage && (
        <button type="button" className="secondary" disabled={results.isFetchingNextPage}
          onClick={() => void results.fetchNextPage()}>
          More agents
        </button>
      )}
    </section>
  );
}
