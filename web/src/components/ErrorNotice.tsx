/** An API error said in words: sign in again on 401, the wait on 429, never a stack trace. */
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, describeError, toApiError } from "../api/errors";

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const apiError = toApiError(error);
  return (
    <div className="notice notice-error" role="alert" data-code={apiError.code}>
      {apiError.status === 429 ? <RetryWait error={apiError} /> : <p>{describeError(apiError)}</p>}
      {apiError.status === 401 && (
        <p>
          <Link to="/signin">Sign in again</Link>
        </p>
      )}
      {apiError.fieldProblems.length > 0 && (
        <ul className="problems">
          {apiError.fieldProblems.map((problem) => (
            <li key={problem.path + problem.message}>
              <code>{problem.path.replace(/^\$\.(body\.?)?/, "") || "request"}</code>: {problem.message}
            </li>
          ))}
        </ul>
      )}
      {apiError.traceId && <p className="muted small">Reference: {apiError.traceId}</p>}
    </div>
  );
}

function RetryWait({ error }: { error: ApiError }) {
  const [left, setLeft] = useState(error.retryAfter ?? 60);
  useEffect(() => {
    if (left <= 0) return;
    const timer = window.setTimeout(() => setLeft((value) => value - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [left]);
  return (
    <p data-retry-after={error.retryAfter ?? ""}>
      {left > 0
        ? `Too many requests. Please wait ${left} second${left === 1 ? "" : "s"} and try again.`
        : "You can try again now."}
    </p>
  );
}

/** The messages for one field, shown next to it. */
export function FieldMessages({ id, messages }: { id: string; messages?: string[] }) {
  if (!messages?.length) return null;
  return (
    <span id={id} className="field-error" role="alert">
      {messages.join(" ")}
    </span>
  );
}
