/** The agent directory: search by name prefix, tag and tool; the filters live in the URL. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../../api/context";
import type { AgentSummary, Page } from "../../api/types";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading, StatusBadge } from "../../components/bits";

const FILTERS = ["q", "tag", "tool"] as const;

export default function DirectoryPage() {
  const api = useApi();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState(() =>
    Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""])),
  );
  const mine = params.get("owner") === "me" && !!session.user;
  const query = { ...Object.fromEntries(FILTERS.map((n) => [n, params.get(n)])), owner: mine ? "me" : null };
  const results = useInfiniteQuery({
    queryKey: ["registry-search", query, session.user?.uid ?? null],
    queryFn: ({ pageParam }) =>
      api.get<Page<AgentSummary>>("/registry/search", { ...query, limit: 20, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const mineBox = new FormData(event.currentTarget).get("mine") === "on";
    const next = Object.fromEntries(Object.entries(draft).filter(([, value]) => value.trim()));
    setParams(mineBox ? { ...next, owner: "me" } : next);
  }

  const agents = results.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section>
      <h1>Agent directory</h1>
      <form className="row" role="search" onSubmit={search}>
        {FILTERS.map((name) => (
          <label key={name}>
            {{ q: "Name starts with", tag: "Tag", tool: "Tool name" }[name]}
            <input
              name={name}
              value={draft[name]}
              onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
            />
          </label>
        ))}
        {session.user && (
          <label className="inline">
            <input type="checkbox" name="mine" defaultChecked={mine} /> Only mine (every status)
          </label>
        )}
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={results.error} />
      {results.isPending && <Loading what="Searching" />}
      {results.isSuccess && agents.length === 0 && <Empty>No agents match this search.</Empty>}
      <ul className="cards" aria-label="Agents">
        {agents.map((agent) => (
          <li key={agent.id} className="card">
            <h2>
              <Link to={`/agents/${agent.id}`}>{agent.name}</Link>
              {(mine || agent.status !== "active") && <StatusBadge status={agent.status} />}
            </h2>
            <p>{agent.description}</p>
            <p className="muted small">
              Version {agent.version}
              {agent.tags.length > 0 && <> · {agent.tags.join(", ")}</>}
            </p>
            <p className="small">Tools: {agent.tools.map((tool) => tool.name).join(", ")}</p>
          </li>
        ))}
      </ul>
      {results.hasNextPage && (
        <button type="button" className="secondary" disabled={results.isFetchingNextPage} onClick={() => void results.fetchNextPage()}>
          More agents
        </button>
      )}
    </section>
  );
}
