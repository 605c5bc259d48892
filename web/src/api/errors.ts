/** The platform's error envelope, and what the console says about each kind of failure. */

export interface FieldProblem {
  path: string;
  message: string;
}

export interface Envelope {
  error: {
    code: string;
    message: string;
    trace_id?: string;
    details?: Array<Record<string, unknown>>;
  };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Array<Record<string, unknown>>;
  readonly traceId?: string;
  /** Seconds to wait, from `Retry-After` (429 and an open circuit's 503). */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: Array<Record<string, unknown>>; traceId?: string; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = options.details ?? [];
    this.traceId = options.traceId;
    this.retryAfter = options.retryAfter;
  }

  /** The 422 details that name a field, as `{path, message}`. */
  get fieldProblems(): FieldProblem[] {
    return this.details.flatMap((detail) =>
      typeof detail.path === "string" && typeof detail.message === "string"
        ? [{ path: detail.path, message: detail.message }]
        : [],
    );
  }
}

/** A network failure or an answer that is not the envelope: never shown raw. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DOMException && error.name === "AbortError") {
    return new ApiError(0, "ABORTED", "The request was cancelled.");
  }
  return new ApiError(0, "NETWORK", "The platform could not be reached. Check your connection.");
}

/** Parses a failed answer into an ApiError, whatever its body holds. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const envelope = body as Partial<Envelope> | null;
  if (envelope?.error && typeof envelope.error.code === "string") {
    return new ApiError(response.status, envelope.error.code, String(envelope.error.message ?? ""), {
      details: Array.isArray(envelope.error.details) ? envelope.error.details : [],
      traceId: envelope.error.trace_id,
      retryAfter,
    });
  }
  return new ApiError(response.status, "HTTP_" + response.status, response.statusText || "", {
    retryAfter,
  });
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The headline the console shows for an error, in words. */
export function describeError(error: ApiError): string {
  switch (error.status) {
    case 0:
      return error.message;
    case 401:
      return "Your session has ended. Please sign in again.";
    case 403:
      return `You are not allowed to do this. ${error.message}`.trim();
    case 404:
      return `Not found: ${error.message || "it may have been removed, or you may not see it."}`;
    case 409:
      return `That conflicts with the current state: ${error.message}`;
    case 413:
      return "That is too large for the platform to accept.";
    case 422:
      return "Some fields need attention.";
    case 429:
      return `Too many requests. Please wait ${error.retryAfter ?? 60} seconds and try again.`;
    case 502:
      return `A service behind the platform failed: ${error.message}`;
    case 503:
      return "The platform is unavailable right now. Please try again shortly.";
    case 504:
      return "The platform took too long to answer. Please try again.";
    default:
      return error.status >= 500
        ? "Something went wrong on the platform. Please try again."
        : error.message || `The request failed (HTTP ${error.status}).`;
  }
}

/**
 * Maps an envelope path to a form field's key: `$.body.tools[0].name` → `tools.0.name`.
 * `prefix` strips a leading part (e.g. `payload` for a tool's input form).
 */
export function fieldKey(path: string, prefix = ""): string {
  let key = path
    .replace(/^\$\.?/, "")
    .replace(/^body\.?/, "")
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^\./, "");
  if (prefix && (key === prefix || key.startsWith(prefix + "."))) {
    key = key.slice(prefix.length).replace(/^\./, "");
  }
  return key;
}

/** Field problems grouped by field key; problems without a usable path go under "". */
export function problemsByField(error: ApiError, prefix = ""): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const problem of error.fieldProblems) {
    const key = fieldKey(problem.path, prefix);
    (grouped[key] ??= []).push(problem.message);
  }
  return grouped;
}
