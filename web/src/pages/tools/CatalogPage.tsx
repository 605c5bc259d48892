/** The tool catalog: search by words, tag and input field; the filters live in the URL. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Page, ToolEntry } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading } from "../../components/bits";

const FILTERS = { q: "Words", tag: "Tag", input_field: "Takes the input field" } as const;
type Filter = keyof typeof FILTERS;
const NAMES = Object.keys(FILTERS) as Filter[];

export default function CatalogPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState(() =>
    Object.fromEntries(NAMES.map((name) => [name, params.get(name) ?? ""])),
  );
  const query = Object.fromEntries(NAMES.map((name) => [name, params.get(name)]));
  const results = useInfiniteQuery({
    queryKey: ["tool-catalog", query],
    queryFn: ({ pageParam }) =>
      api.get<Page<ToolEntry>>("/tools/catalog", { ...query, limit: 20, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setParams(Object.fromEntries(Object.entries(draft).filter(([, value]) => value.trim())));
  }

  const tools = results.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section>
      <h1>Tool catalog</h1>
      <p>
        Every tool of every active agent, with its versions. To build one, use the{" "}
        <Link to="/factory">Tool Factory</Link>.
      </p>
      <form className="row" role="search" onSubmit={search}>
        {NAMES.map((name) => (
          <label key={name}>
            {FILTERS[name]}
            <input
              name={name}
              value={draft[name]}
              onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
            />
          </label>
        ))}
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={results.error} />
      {results.isPending && <Loading what="Searching the catalog" />}
      {results.isSuccess && tools.length === 0 && <Empty>No tools match this search.</Empty>}
      <ul className="cards" aria-label="Tools">
        {tools.map((tool) => (
          <li key={tool.tool_id} className="card">
            <h2>
              <Link to={`/tools/${encodeURIComponent(tool.tool_id)}`}>{tool.name}</Link>
            </h2>
            <p>{tool.description}</p>
            <p className="muted small">
              Version {tool.current_version} · by{" "}
              <Link to={`/agents/${encodeURIComponent(tool.agent_id)}`}>{tool.agent_name}</Link>
              {tool.tags.length > 0 && <> · {tool.tags.join(", ")}</>}
            </p>
          </li>
        ))}
      </ul>
      {results.hasNextPage && (
        <button
          type="button"
          className="secondary"
          disabled={results.isFetchingNextPage}
          onClick={() => void results.fetchNextPage()}
        >
          More tools
        </button>
      )}
    </section>
  );
}
