/** Registering a card: one Idempotency-Key per attempt, then on to the agent's own page. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { useNavigate } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Agent } from "../../api/types";
import { attemptFor, type Attempt } from "./idempotency";

export function useRegister() {
  const api = useApi();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const attempt = useRef<Attempt | null>(null);
  return useMutation({
    mutationFn: (card: unknown) => {
      attempt.current = attemptFor(attempt.current, card);
      return api.post<Agent>("/agents/register", card, { "Idempotency-Key": attempt.current.key });
    },
    onSuccess: (agent) => {
      attempt.current = null;
      queries.setQueryData(["my-agent", agent.id], agent);
      void queries.invalidateQueries({ queryKey: ["registry-search"] });
      void queries.invalidateQueries({ queryKey: ["my-agents"] });
      navigate(`/my/agents/${agent.id}`);
    },
  });
}
