/** The user's provider API keys: set one, see the last four characters only, delete one. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { ApiError, problemsByField } from "../../api/errors";
import { ErrorNotice, FieldMessages } from "../../components/ErrorNotice";
import { Empty, Loading, formatTime } from "../../components/bits";
import { PROVIDERS, PROVIDER_WORDS, keyProblem, maskKey, type ProviderName, type StoredKey } from "./keys";
import "./owner.css";

interface KeyList {
  keys: StoredKey[];
}

const words = (provider: string) => PROVIDER_WORDS[provider as ProviderName] ?? provider;

export default function KeysPage() {
  const api = useApi();
  const queries = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => api.get<KeyList>("/auth/user/api-keys") });
  const [provider, setProvider] = useState<ProviderName>("openai");
  const [secret, setSecret] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const set = useMutation({
    mutationFn: (change: Record<string, string | null>) => api.patch<KeyList>("/auth/user/api-keys", change),
    onSuccess: (list, change) => {
      queries.setQueryData(["api-keys"], list);
      setSecret(""); // the secret leaves the page once it is saved
      setSaved(`${words(Object.keys(change)[0])} key saved.`);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    const wrong = keyProblem(secret);
    setProblem(wrong);
    if (!wrong) set.mutate({ [provider]: secret });
  }
  const server = set.error instanceof ApiError ? problemsByField(set.error) : {};
  const secretMessages = [...(problem ? [problem] : []), ...(server[provider] ?? [])];
  return (
    <section>
      <h1>My API keys</h1>
      <p>
        Your own keys for the model providers that agents and the Tool Factory call on your behalf.
        They are stored encrypted; nobody, you included, can read one back: only the last four
        characters are shown.
      </p>
      <h2>Stored keys</h2>
      <ErrorNotice error={keys.error} />
      {keys.isPending && <Loading what="Loading your keys" />}
      {keys.data && keys.data.keys.length === 0 && <Empty>No keys stored.</Empty>}
      {keys.data && keys.data.keys.length > 0 && (
        <ul className="cards" aria-label="Stored keys">
          {keys.data.keys.map((key) => (
            <KeyItem key={key.provider} stored={key} />
          ))}
        </ul>
      )}
      <h2>Set a key</h2>
      <form className="stack narrow" onSubmit={submit} noValidate aria-label="Set a key">
        <label>
          Provider
          <select value={provider} onChange={(e) => setProvider(e.target.value as ProviderName)}>
            {PROVIDERS.map((name) => (
              <option key={name} value={name}>
                {PROVIDER_WORDS[name]}
              </option>
            ))}
          </select>
        </label>
        <div className="field">
          <label htmlFor="key-secret">Secret key</label>
          <input id="key-secret" type="password" autoComplete="off" spellCheck={false} value={secret}
            onChange={(e) => setSecret(e.target.value)} aria-invalid={secretMessages.length > 0 || undefined}
            aria-describedby={secretMessages.length ? "key-secret-error" : undefined} />
          <FieldMessages id="key-secret-error" messages={secretMessages} />
        </div>
        <p className="muted small">Setting a key for a provider replaces the one stored for it.</p>
        <ErrorNotice error={set.error} />
        {saved && <p role="status">{saved}</p>}
        <button type="submit" disabled={set.isPending}>
          Save key
        </button>
      </form>
    </section>
  );
}

function KeyItem({ stored }: { stored: StoredKey }) {
  const api = useApi();
  const queries = useQueryClient();
  const [asking, setAsking] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.delete(`/auth/user/api-keys/${encodeURIComponent(stored.provider)}`),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const name = words(stored.provider);
  return (
    <li className="card stack" aria-label={`${name} key`}>
      <h3>{name}</h3>
      <p>
        <span className="masked" aria-label={`ending in ${stored.last4.slice(-4)}`}>{maskKey(stored.last4)}</span>
        <br />
        <span className="muted small">Set {formatTime(stored.updated_at)}</span>
      </p>
      <ErrorNotice error={remove.error} />
      {asking ? (
        <div className="confirm stack" role="group" aria-label={`Confirm deleting the ${name} key`}>
          <p>Delete the {name} key? Agents can no longer call {name} for you until you set one again.</p>
          <div className="agent-actions">
            <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
              Yes, delete the {name} key
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="ghost" onClick={() => setAsking(true)}>
          Delete the {name} key
        </button>
      )}
    </li>
  );
}
