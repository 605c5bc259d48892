/** The vetting queue (admins): submissions pending vetting with their scan receipts, and the
 * decisions on them; suspend and reinstate for agents already out of the queue. */
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../../api/context";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading, StatusBadge, formatTime } from "../../components/bits";
import { DecisionForm } from "./DecisionForm";
import { Receipt, useReceipt } from "./Receipt";
import { StatusChange } from "./StatusChange";
import { ACTION_WORDS, type Action } from "./decisions";
import type { Decision, QueueItem, QueuePage as Page } from "./types";
import "./admin.css";

const VERDICTS = [
  ["", "Every verdict"],
  ["clean", "Clean"],
  ["findings", "Findings"],
  ["inconclusive", "Inconclusive"],
] as const;

export interface Outcome {
  name: string;
  decision: Decision;
  action: Action;
}

export default function QueuePage() {
  const api = useApi();
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();
  const verdict = params.get("verdict") ?? "";
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const queue = useInfiniteQuery({
    queryKey: ["vetting-queue", verdict],
    queryFn: ({ pageParam }) =>
      api.get<Page>("/vetting/queue", { verdict: verdict || undefined, limit: 50, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const items = queue.data?.pages.flatMap((page) => page.items) ?? [];

  function decided(name: string) {
    return (decision: Decision, action: Action) => {
      setOutcome({ name, decision, action });
      void queries.invalidateQueries({ queryKey: ["vetting-queue"] });
      void queries.invalidateQueries({ queryKey: ["agent"] });
    };
  }

  return (
    <section>
      <h1>Vetting queue</h1>
      <p className="muted">
        Agents waiting for a decision, oldest first. Each is scanned when submitted; read its receipt, then approve
        (it is deployed and goes live) or reject it, with a reason the owner sees.
      </p>
      {outcome && (
        <p className="notice notice-ok" role="status">
          {outcome.name} was {ACTION_WORDS[outcome.action].done}; its status is now{" "}
          <StatusBadge status={outcome.decision.status} />.
        </p>
      )}
      <label className="queue-filter">
        Scan verdict
        <select value={verdict} onChange={(event) => setParams(event.target.value ? { verdict: event.target.value } : {})}>
          {VERDICTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <ErrorNotice error={queue.error} />
      {queue.isPending && <Loading what="Reading the queue" />}
      {queue.isSuccess && items.length === 0 && (
        <Empty>{verdict ? `No submission with a ${verdict} scan is waiting.` : "The queue is empty."}</Empty>
      )}
      <ul className="queue" aria-label="Submissions">
        {items.map((item) => (
          <QueueEntry key={item.agent_id} item={item} onDecided={decided(item.name ?? item.agent_id)} />
        ))}
      </ul>
      {queue.hasNextPage && (
        <button type="button" className="secondary" disabled={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()}>
          More submissions
        </button>
      )}
      <StatusChange onDecided={(name, decision, action) => decided(name)(decision, action)} />
    </section>
  );
}

function QueueEntry({ item, onDecided }: { item: QueueItem; onDecided: (d: Decision, a: Action) => void }) {
  const receipt = useReceipt(item.agent_id, item.latest_scan);
  const name = item.name ?? item.agent_id;
  const current = receipt.data && receipt.data.card_digest === item.card_digest ? receipt.data : undefined;
  return (
    <li className="card" data-agent={item.agent_id}>
      <h2>
        <Link to={`/agents/${item.agent_id}`}>{name}</Link> <StatusBadge status={item.status} />
      </h2>
      <p className="muted small">
        Submitted {formatTime(item.submitted_at)} by <code>{item.owner_uid}</code> · agent <code>{item.agent_id}</code>
      </p>
      <Receipt receipt={receipt.data} error={receipt.error} pending={receipt.isPending} />
      {receipt.data && !current && (
        <p className="notice notice-warn small">
          This receipt is of an earlier card: the current one is still to be scanned, and approving waits for it.
        </p>
      )}
      <DecisionForm
        agentId={item.agent_id}
        name={name}
        status={item.status}
        verdict={current?.verdict}
        findings={current?.findings.length}
        onDecided={onDecided}
      />
    </li>
  );
}
