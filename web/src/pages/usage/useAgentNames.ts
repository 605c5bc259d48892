/** Agents' names for the ids analytics answers with; an agent that cannot be read keeps its id. */
import { useQueries } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import type { Agent } from "../../api/types";

export function useAgentNames(ids: string[]): Record<string, string> {
  const api = useApi();
  const unique = [...new Set(ids)].slice(0, 25);
  const answers = useQueries({
    queries: unique.map((id) => ({
      queryKey: ["agent-name", id],
      queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(id)}`),
      staleTime: Infinity,
      retry: false,
    })),
  });
  const names: Record<string, string> = {};
  answers.forEach((answer, index) => {
    if (answer.data) names[unique[index]] = answer.data.card.name;
  });
  return names;
}
