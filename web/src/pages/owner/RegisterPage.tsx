/** Register an agent three ways: a form, its card as JSON, or an A2A agent card. */
import { useState, type FormEvent, type KeyboardEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, problemsByField } from "../../api/errors";
import { ErrorNotice } from "../../components/ErrorNotice";
import { cardFromA2a } from "./a2a";
import { buildCard, emptyDraft, type Problems } from "./cardDraft";
import { CardForm } from "./CardForm";
import { Field } from "./Field";
import { useRegister } from "./useRegister";
import "./owner.css";

const TABS = [
  ["form", "Fill in a form"],
  ["json", "Paste card JSON"],
  ["a2a", "Import an A2A card"],
] as const;
type Tab = (typeof TABS)[number][0];

export default function RegisterPage() {
  const [tab, setTab] = useState<Tab>("form");
  const register = useRegister();
  const choose = (next: Tab) => {
    register.reset();
    setTab(next);
  };
  function arrows(event: KeyboardEvent) {
    const index = TABS.findIndex(([id]) => id === tab);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = TABS[(index + step + TABS.length) % TABS.length][0];
    choose(next);
    document.getElementById(`tab-${next}`)?.focus();
  }
  return (
    <section>
      <h1>Register an agent</h1>
      <p>
        A new agent waits for vetting: it is scanned by itself, an admin decides, and only then do
        other people see it. <Link to="/my/agents">Back to my agents</Link>
      </p>
      <div className="tabs" role="tablist" aria-label="How to register" onKeyDown={arrows}>
        {TABS.map(([id, label]) => (
          <button key={id} id={`tab-${id}`} type="button" role="tab" aria-selected={tab === id}
            aria-controls={`panel-${id}`} tabIndex={tab === id ? 0 : -1} onClick={() => choose(id)}>
            {label}
          </button>
        ))}
      </div>
      <div id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === "form" && <FormTab register={register} />}
        {tab === "json" && <JsonTab register={register} mode="json" />}
        {tab === "a2a" && <JsonTab register={register} mode="a2a" />}
      </div>
    </section>
  );
}

type Register = ReturnType<typeof useRegister>;

function FormTab({ register }: { register: Register }) {
  const [draft, setDraft] = useState(emptyDraft);
  const [local, setLocal] = useState<Problems>({});
  const server = register.error instanceof ApiError ? problemsByField(register.error) : {};
  function submit(event: FormEvent) {
    event.preventDefault();
    const { card, problems } = buildCard(draft);
    setLocal(problems);
    if (card) register.mutate(card);
  }
  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="Agent card">
      <CardForm draft={draft} onChange={setDraft} problems={{ ...server, ...local }} />
      {Object.keys(local).length > 0 && (
        <p className="notice notice-error" role="alert">Some fields need attention: see the messages beside them.</p>
      )}
      <ErrorNotice error={register.error} />
      <button type="submit" disabled={register.isPending}>
        {register.isPending ? "Registering…" : "Register"}
      </button>
    </form>
  );
}

function JsonTab({ register, mode }: { register: Register; mode: "json" | "a2a" }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const id = mode === "json" ? "card-json" : "a2a-json";
  function submit(event: FormEvent) {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      setProblem(`Not valid JSON: ${(error as Error).message}`);
      return;
    }
    try {
      const card = mode === "a2a" ? cardFromA2a(parsed) : parsed;
      setProblem(null);
      register.mutate(card);
    } catch (error) {
      setProblem((error as Error).message);
    }
  }
  const label = mode === "json" ? "Agent card (JSON)" : "A2A agent card (JSON)";
  const hint =
    mode === "json"
      ? "The card as docs/api.md describes it: name, description, version, tools, deployment, …"
      : "An A2A AgentCard (name, description, version, url, skills, …). Its skills become tools that take any JSON object; the card is mapped here and sent to the registry.";
  return (
    <form onSubmit={submit} className="stack" noValidate aria-label={`Register from the ${mode === "json" ? "card" : "A2A card"}`}>
      <Field id={id} label={label} value={text} onChange={setText} hint={hint}
        messages={problem ? [problem] : undefined} multiline rows={16} />
      <ErrorNotice error={register.error} />
      <button type="submit" disabled={register.isPending}>
        {register.isPending ? "Registering…" : mode === "json" ? "Register this card" : "Import and register"}
      </button>
    </form>
  );
}
