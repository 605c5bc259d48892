/** Change an agent's card (a PATCH of the changed fields); for a rejected agent, a resubmission. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { ApiError, problemsByField } from "../../api/errors";
import type { Agent, AgentCard } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { buildCard, cardPatch, draftFromCard, type Problems } from "./cardDraft";
import { CardForm } from "./CardForm";

export function EditAgent({ agent }: { agent: Agent }) {
  const api = useApi();
  const queries = useQueryClient();
  const [draft, setDraft] = useState(() => draftFromCard(agent.card));
  const [local, setLocal] = useState<Problems>({});
  const [note, setNote] = useState<string | null>(null);
  const rejected = agent.status === "rejected";
  const save = useMutation({
    mutationFn: (patch: Record<string, unknown>) =>
      api.patch<Agent>(`/agents/${encodeURIComponent(agent.id)}`, patch),
    onSuccess: (saved) => {
      queries.setQueryData(["my-agent", agent.id], saved);
      void queries.invalidateQueries({ queryKey: ["my-agents"] });
      void queries.invalidateQueries({ queryKey: ["vetting-scan", agent.id] });
      setDraft(draftFromCard(saved.card));
      setNote(
        saved.status !== agent.status && saved.status === "pending-vetting"
          ? "Saved. The agent is pending vetting again and will be scanned by itself."
          : "Saved.",
      );
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    setNote(null);
    const { card, problems } = buildCard(draft);
    setLocal(problems);
    if (!card) return;
    const patch = cardPatch(agent.card, card as AgentCard);
    if (!Object.keys(patch).length) {
      setNote(rejected ? "Nothing changed: change what the reason names to resubmit." : "Nothing changed.");
      return;
    }
    save.mutate(patch);
  }
  const server = save.error instanceof ApiError ? problemsByField(save.error) : {};
  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="Edit the agent">
      {rejected && (
        <p className="notice notice-warn">
          This agent was rejected. Fix what the reason names and save: saving any change resubmits
          it for vetting (it is scanned again by itself).
        </p>
      )}
      <CardForm draft={draft} onChange={setDraft} problems={{ ...server, ...local }} />
      <ErrorNotice error={save.error} />
      {note && <p role="status">{note}</p>}
      <button type="submit" disabled={save.isPending}>
        {rejected ? "Save and resubmit for vetting" : "Save changes"}
      </button>
    </form>
  );
}
