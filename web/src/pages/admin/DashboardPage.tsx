/** The platform at a glance (admins): the last 24 hours, refreshed every few seconds by itself. */
import { useQueries, useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { useApi, useConfig } from "../../api/context";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/bits";
import { byKey, byDay, usd } from "../usage/series";
import type { Costs } from "../usage/types";
import { useAgentNames } from "../usage/useAgentNames";
import "../usage/usage.css";
import { errorRatePerHour, executionsPerHour, latency, topAgents } from "./dashboardSeries";
import type { Dashboard, Metrics } from "./types";

const DEFAULT_REFRESH_MS = 30_000;
const LATENCY_AGENTS = 5;

const dollars = (value: number) => usd(Math.round(value * 1_000_000));
const percent = (value: number) => `${Math.round(value * 10) / 10}%`;
const milliseconds = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

export default function DashboardPage() {
  const api = useApi();
  const every = useConfig().dashboardRefreshMs ?? DEFAULT_REFRESH_MS;
  const board = useQuery({
    queryKey: ["dashboard"],
    queryFn: () => api.get<Dashboard>("/analytics/dashboard"),
    refetchInterval: every,
    refetchIntervalInBackground: false,
  });
  const costs = useQuery({
    queryKey: ["costs", "all", 30],
    queryFn: () => api.get<Costs>("/analytics/costs", { days: 30, scope: "all" }),
    refetchInterval: every,
  });
  const top = board.data?.top_agents_by_calls.slice(0, LATENCY_AGENTS) ?? [];
  const metrics = useQueries({
    queries: top.map((rank) => ({
      queryKey: ["metrics", rank.agent_id, "24h"],
      queryFn: () => api.get<Metrics>(`/analytics/metrics/${encodeURIComponent(rank.agent_id)}`, { window: "24h" }),
      refetchInterval: every,
      retry: false,
    })),
  });
  const ids = [
    ...(board.data?.top_agents_by_calls ?? []),
    ...(board.data?.top_agents_by_cost ?? []),
  ].map((rank) => rank.agent_id);
  const names = useAgentNames(ids);

  return (
    <section>
      <h1>Dashboard</h1>
      <p className="muted">
        The last 24 hours on the platform. It refreshes itself every {Math.round(every / 100) / 10} seconds
        {board.dataUpdatedAt > 0 && (
          <>
            ; last refreshed at{" "}
            <time dateTime={new Date(board.dataUpdatedAt).toISOString()} data-testid="refreshed">
              {new Date(board.dataUpdatedAt).toLocaleTimeString()}
            </time>
          </>
        )}
        {board.isFetching && " (refreshing…)"}.
      </p>
      <ErrorNotice error={board.error} />
      {board.isPending && <Loading what="Reading the dashboard" />}
      {board.data && (
        <>
          <dl className="stats" aria-label="The last 24 hours">
            <Stat label="Executions" value={board.data.calls} name="calls" />
            <Stat label="Errors" value={board.data.errors} name="errors" />
            <Stat
              label="Error rate"
              value={board.data.error_rate == null ? "—" : `${(board.data.error_rate * 100).toFixed(1)}%`}
              name="error-rate"
            />
            <Stat label="Cost" value={usd(board.data.cost_micros)} name="cost" />
            <Stat label="Agents used" value={board.data.agents} name="agents" />
            <Stat label="Users" value={board.data.users} name="users" />
            <Stat label="Security events" value={board.data.security_events} name="security" />
            <Stat
              label="Open alerts"
              value={<Link to="/admin/alerts">{board.data.open_alerts.length}</Link>}
              name="alerts"
            />
          </dl>
          <h2>Executions over time</h2>
          <div className="charts">
            <Chart title="Executions per hour" data={executionsPerHour(board.data)} />
            <Chart title="Error rate per hour" data={errorRatePerHour(board.data)} format={percent} />
          </div>
          <h2>Latency</h2>
          <p className="muted small">p50 and p95 over 24 hours, for the {LATENCY_AGENTS} busiest agents.</p>
          {metrics.map((answer) => answer.error).filter(Boolean).slice(0, 1).map((error, index) => (
            <ErrorNotice key={index} error={error} />
          ))}
          <Chart
            title="Latency by agent"
            data={latency(metrics.flatMap((answer) => (answer.data ? [answer.data] : [])), names)}
            kind="bars"
            format={milliseconds}
          />
          <h2>Top agents</h2>
          <div className="charts">
            <Chart title="Top agents by executions" data={topAgents(board.data.top_agents_by_calls, names, "calls")} kind="bars" />
            <Chart
              title="Top agents by cost"
              data={topAgents(board.data.top_agents_by_cost, names, "cost")}
              kind="bars"
              format={dollars}
            />
          </div>
        </>
      )}
      <h2>Costs, last 30 days</h2>
      <ErrorNotice error={costs.error} />
      {costs.data && (
        <>
          <p>
            Everyone's executions: {costs.data.calls}, costing <strong data-stat="cost-30d">{usd(costs.data.cost_micros)}</strong>.
          </p>
          <div className="charts">
            <Chart title="Cost by day, everyone" data={byDay(costs.data, "cost")} kind="bars" format={dollars} />
            <Chart title="Top users by cost" data={byKey((costs.data.by_user ?? []).slice(0, 10), {}, "cost")} kind="bars" format={dollars} />
          </div>
        </>
      )}
    </section>
  );
}

function Stat({ label, value, name }: { label: string; value: ReactNode; name: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-stat={name}>{value}</dd>
    </div>
  );
}
