/** Anomaly alerts (admins): each agent's recent error rate or latency against its baseline. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useApi } from "../../api/context";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading, formatTime } from "../../components/bits";
import { useAgentNames } from "../usage/useAgentNames";
import { describeObserved } from "./alertWords";
import type { Alert, AlertCheck } from "./types";
import "./admin.css";

type Shown = "open" | "acked";

export default function AlertsPage() {
  const api = useApi();
  const queries = useQueryClient();
  const [shown, setShown] = useState<Shown>("open");
  const alerts = useQuery({
    queryKey: ["alerts", shown],
    queryFn: () => api.get<Alert[]>("/analytics/alerts", { status: shown, limit: 100 }),
  });
  const check = useMutation({
    mutationFn: () => api.post<AlertCheck>("/analytics/alerts/check"),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["alerts"] }),
  });
  const names = useAgentNames(alerts.data?.map((alert) => alert.agent_id) ?? []);

  return (
    <section>
      <h1>Alerts</h1>
      <p className="muted">
        An alert opens when an agent's last 15 minutes look much worse than its week before: a high error rate, or a
        much slower p95. It stays open until an admin acknowledges it.
      </p>
      <div className="row toolbar">
        <div className="tabs" role="group" aria-label="Which alerts">
          {(["open", "acked"] as const).map((status) => (
            <button
              key={status}
              type="button"
              aria-pressed={shown === status}
              className={shown === status ? "" : "secondary"}
              onClick={() => setShown(status)}
            >
              {status === "open" ? "Open" : "Acknowledged"}
            </button>
          ))}
        </div>
        <button type="button" className="secondary" disabled={check.isPending} onClick={() => check.mutate()}>
          {check.isPending ? "Checking…" : "Run the check now"}
        </button>
      </div>
      <ErrorNotice error={check.error} />
      {check.data && (
        <p className="notice notice-ok" role="status">
          Checked {check.data.checked_agents} agent{check.data.checked_agents === 1 ? "" : "s"}:{" "}
          {check.data.opened.length} new alert{check.data.opened.length === 1 ? "" : "s"}, {check.data.still_open.length}{" "}
          still open.
        </p>
      )}
      <ErrorNotice error={alerts.error} />
      {alerts.isPending && <Loading what="Reading the alerts" />}
      {alerts.data?.length === 0 && <Empty>{shown === "open" ? "No open alerts." : "No acknowledged alerts."}</Empty>}
      <ul className="cards alerts" aria-label={shown === "open" ? "Open alerts" : "Acknowledged alerts"}>
        {alerts.data?.map((alert) => (
          <AlertCard key={alert.id} alert={alert} name={names[alert.agent_id]} />
        ))}
      </ul>
    </section>
  );
}

function AlertCard({ alert, name }: { alert: Alert; name?: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const [note, setNote] = useState("");
  const ack = useMutation({
    mutationFn: () => api.post<Alert>(`/analytics/alerts/${encodeURIComponent(alert.id)}/ack`, note.trim() ? { note: note.trim() } : {}),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["alerts"] }),
  });
  const noteId = `note-${alert.id}`;

  function submit(event: FormEvent) {
    event.preventDefault();
    ack.mutate();
  }

  return (
    <li className="card" data-alert={alert.id} data-agent={alert.agent_id}>
      <h2>
        {alert.kind === "error_rate" ? "Error rate" : "Latency"}:{" "}
        <Link to={`/agents/${alert.agent_id}`}>{name ?? alert.agent_id}</Link>
        <span className={`badge ${alert.status === "open" ? "badge-suspended" : "badge-info"}`}>
          {alert.status === "open" ? "Open" : "Acknowledged"}
        </span>
      </h2>
      <p>{describeObserved(alert)}</p>
      <dl className="facts small">
        <dt>Opened</dt>
        <dd>{formatTime(alert.opened_at)}</dd>
        <dt>Last seen</dt>
        <dd>{formatTime(alert.last_seen_at)}</dd>
        {alert.acked_at && (
          <>
            <dt>Acknowledged</dt>
            <dd>
              {formatTime(alert.acked_at)} by {alert.acked_by ?? "an admin"}
            </dd>
          </>
        )}
        {alert.note && (
          <>
            <dt>Note</dt>
            <dd>{alert.note}</dd>
          </>
        )}
      </dl>
      {alert.status === "open" && (
        <form className="stack" onSubmit={submit}>
          <label htmlFor={noteId}>
            Note (optional)
            <input id={noteId} value={note} maxLength={1000} onChange={(event) => setNote(event.target.value)} />
          </label>
          <ErrorNotice error={ack.error} />
          <button type="submit" disabled={ack.isPending}>
            Acknowledge
          </button>
        </form>
      )}
    </li>
  );
}
