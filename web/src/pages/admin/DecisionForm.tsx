/**
 * An admin's decision on one agent: a reason (required, recorded, shown to the owner), the
 * acceptance of a scan's findings when approving despite them, and a confirmation step for
 * reject and suspend.
 */
import { useMutation } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useApi } from "../../api/context";
import { ApiError, problemsByField } from "../../api/errors";
import { ErrorNotice, FieldMessages } from "../../components/ErrorNotice";
import { ACTION_WORDS, actionsFor, checkDecision, decisionBody, needsAcceptance, type Action } from "./decisions";
import type { Decision, Verdict } from "./types";

export interface DecisionFormProps {
  agentId: string;
  name: string;
  status: string;
  verdict?: Verdict;
  findings?: number;
  onDecided: (decision: Decision, action: Action) => void;
}

export function DecisionForm({ agentId, name, status, verdict, findings = 0, onDecided }: DecisionFormProps) {
  const api = useApi();
  const id = useId();
  const [reason, setReason] = useState("");
  const [accepted, setAccepted] = useState(false);
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const [confirming, setConfirming] = useState<Action | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const needed = needsAcceptance(status, verdict);
  const decide = useMutation({
    mutationFn: (action: Action) =>
      api.post<Decision>(`/vetting/${encodeURIComponent(agentId)}/${action}`, decisionBody(action, reason, accepted)),
    onSuccess: (decision, action) => {
      setConfirming(null);
      setReason("");
      onDecided(decision, action);
    },
    onError: () => setConfirming(null),
  });
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const server = decide.error instanceof ApiError ? problemsByField(decide.error) : {};
  const reasonProblems = [...(local.reason ?? []), ...(server.reason ?? []), ...(server.notes ?? [])];
  const acceptProblems = local.accept_findings ?? [];

  function start(action: Action) {
    const problems = checkDecision(action, reason, { needed, given: accepted });
    setLocal(problems);
    decide.reset();
    if (Object.keys(problems).length) return;
    if (ACTION_WORDS[action].confirm) setConfirming(action);
    else decide.mutate(action);
  }

  const actions = actionsFor(status);
  if (!actions.length) return <p className="muted small">No decision is open to an agent in this status.</p>;
  return (
    <div className="decision" role="group" aria-label={`Decide on ${name}`}>
      <label htmlFor={`${id}-reason`}>
        Reason (required)
        <textarea
          id={`${id}-reason`}
          className="reason"
          value={reason}
          maxLength={2000}
          aria-invalid={reasonProblems.length > 0}
          aria-describedby={reasonProblems.length ? `${id}-reason-error` : `${id}-reason-help`}
          onChange={(event) => setReason(event.target.value)}
        />
      </label>
      <span id={`${id}-reason-help`} className="muted small">
        Recorded in the audit log with your name; the owner sees it on their agent.
      </span>
      <FieldMessages id={`${id}-reason-error`} messages={reasonProblems} />
      {needed && actions.includes("approve") && (
        <div className="acceptance">
          <p id={`${id}-accept-help`} className="small">
            The latest scan's verdict is <strong>{verdict}</strong>
            {findings > 0 && ` with ${findings} finding${findings === 1 ? "" : "s"}`}. The platform refuses to
            approve such an agent unless you accept that, knowingly: your acceptance is recorded with the approval.
          </p>
          <label className="inline">
            <input
              type="checkbox"
              checked={accepted}
              aria-invalid={acceptProblems.length > 0}
              aria-describedby={acceptProblems.length ? `${id}-accept-error` : `${id}-accept-help`}
              onChange={(event) => setAccepted(event.target.checked)}
            />
            I have read the findings and approve despite them
          </label>
          <FieldMessages id={`${id}-accept-error`} messages={acceptProblems} />
        </div>
      )}
      <ErrorNotice error={decide.error} />
      {confirming ? (
        <div className="confirm" role="group" aria-label={`Confirm: ${ACTION_WORDS[confirming].verb} ${name}`}>
          <p>
            {ACTION_WORDS[confirming].verb} <strong>{name}</strong>? {ACTION_WORDS[confirming].confirm}
          </p>
          <div className="row">
            <button
              ref={confirmButton}
              type="button"
              className="danger"
              disabled={decide.isPending}
              onClick={() => decide.mutate(confirming)}
            >
              Yes, {ACTION_WORDS[confirming].verb.toLowerCase()}
            </button>
            <button type="button" className="ghost" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="row actions">
          {actions.map((action) => (
            <button
              key={action}
              type="button"
              className={ACTION_WORDS[action].confirm ? "danger" : ""}
              disabled={decide.isPending}
              onClick={() => start(action)}
            >
              {decide.isPending && decide.variables === action ? `${ACTION_WORDS[action].verb}…` : ACTION_WORDS[action].verb}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
