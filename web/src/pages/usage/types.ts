/** Analytics' answers the usage and admin pages read (services/analytics, models.py). */

export interface CostLine {
  key: string;
  calls: number;
  cost_micros: number;
  cost_usd: number;
}

export interface Costs {
  scope: "own" | "all";
  since: string;
  until: string;
  calls: number;
  cost_micros: number;
  cost_usd: number;
  by_day: CostLine[];
  by_agent: CostLine[];
  by_user?: CostLine[] | null;
}
