/** Sign in and sign up: Email/Password, or Google. */
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { describeAuthError, useSession } from "../../auth";

export function SignInPage({ mode }: { mode: "signin" | "signup" }) {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/agents";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      navigate(from, { replace: true });
    } catch (failure) {
      setError(describeAuthError(failure));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void run(() => (signup ? session.signUp(email, password, name) : session.signIn(email, password)));
  }

  return (
    <section className="narrow">
      <h1>{signup ? "Create your account" : "Sign in"}</h1>
      <form onSubmit={submit} className="stack" aria-describedby={error ? "auth-error" : undefined}>
        {signup && (
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input
            type="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            autoComplete="email"
          />
        </label>
        <label>
          Password
          <input
            type="password"
            required
            minLength={6}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={signup ? "new-password" : "current-password"}
          />
        </label>
        {error && (
          <p id="auth-error" className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {signup ? "Sign up" : "Sign in"}
        </button>
      </form>
      <p className="or">or</p>
      <button type="button" className="secondary" disabled={busy} onClick={() => void run(session.signInWithGoogle)}>
        Continue with Google
      </button>
      <p>
        {signup ? (
          <>
            Already have an account? <a href="/signin" onClick={(e) => { e.preventDefault(); navigate("/signin", { state: location.state }); }}>Sign in</a>
          </>
        ) : (
          <>
            New here? <a href="/signup" onClick={(e) => { e.preventDefault(); navigate("/signup", { state: location.state }); }}>Create an account</a>
          </>
        )}
      </p>
    </section>
  );
}
