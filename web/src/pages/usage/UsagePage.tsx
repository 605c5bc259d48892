/** The signed-in user's own executions and what they cost, by day and by agent. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { useApi } from "../../api/context";
import { useSession } from "../../auth";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading } from "../../components/bits";
import { byKey, byDay, usd } from "./series";
import type { Costs } from "./types";
import { useAgentNames } from "./useAgentNames";
import "./usage.css";

const PERIODS = [7, 30, 90] as const;

const dollars = (value: number) => usd(Math.round(value * 1_000_000));

export default function UsagePage() {
  const api = useApi();
  const session = useSession();
  const [days, setDays] = useState<number>(30);
  const costs = useQuery({
    queryKey: ["costs", "own", days, session.user?.uid ?? null],
    queryFn: () => api.get<Costs>("/analytics/costs", { days, scope: "own" }),
  });
  const names = useAgentNames(costs.data?.by_agent.map((line) => line.key) ?? []);

  return (
    <section>
      <h1>My usage and costs</h1>
      <p className="muted">
        Your own executions of any agent, and what they cost. New executions show up within a few seconds.
      </p>
      <label className="usage-period">
        Period
        <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
          {PERIODS.map((period) => (
            <option key={period} value={period}>
              Last {period} days
            </option>
          ))}
        </select>
      </label>
      <ErrorNotice error={costs.error} />
      {costs.isPending && <Loading what="Reading your usage" />}
      {costs.data && (
        <>
          <dl className="stats" aria-label="Totals">
            <div>
              <dt>Executions</dt>
              <dd data-total="calls">{costs.data.calls}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd data-total="cost">{usd(costs.data.cost_micros)}</dd>
            </div>
            <div>
              <dt>Agents used</dt>
              <dd>{costs.data.by_agent.length}</dd>
            </div>
          </dl>
          {costs.data.calls === 0 && (
            <Empty>
              No executions in this period. Try a tool from the <Link to="/agents">directory</Link>.
            </Empty>
          )}
          <h2>By day</h2>
          <div className="charts">
            <Chart title="Executions by day" data={byDay(costs.data, "calls")} kind="bars" />
            <Chart title="Cost by day" data={byDay(costs.data, "cost")} kind="bars" format={dollars} />
          </div>
          <h2>By agent</h2>
          <div className="charts">
            <Chart title="Executions by agent" data={byKey(costs.data.by_agent, names, "calls")} kind="bars" />
            <Chart
              title="Cost by agent"
              data={byKey(costs.data.by_agent, names, "cost")}
              kind="bars"
              format={dollars}
            />
          </div>
        </>
      )}
    </section>
  );
}
