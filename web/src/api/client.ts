/**
 * The console's one way to the platform: `/api/v1` on the gateway, with the signed-in user's
 * Firebase ID token. Every failure becomes an `ApiError` from the shared envelope.
 */
import { ApiError, errorFromResponse, toApiError } from "./errors";

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send without a token even when signed in (anonymous reads work either way). */
  anonymous?: boolean;
}

export interface ApiClientOptions {
  apiBase: string;
  /** The current ID token, or null when nobody is signed in. */
  getToken: () => Promise<string | null>;
  /** Called on every 401, so the page can ask the user to sign in again. */
  onUnauthenticated?: (error: ApiError) => void;
  fetcher?: typeof fetch;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  headers: Headers;
}

export class ApiClient {
  private readonly options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.options = options;
  }

  url(path: string, query?: Query): string {
    const base = this.options.apiBase.replace(/\/$/, "");
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const qs = search.toString();
    return `${base}/api/v1${path}${qs ? `?${qs}` : ""}`;
  }

  async send<T>(path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (!options.anonymous) {
      const token = await this.options.getToken();
      if (token) headers.authorization = `Bearer ${token}`;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const fetcher = this.options.fetcher ?? fetch;
    let response: Response;
    try {
      response = await fetcher(this.url(path, options.query), {
        method: options.method ?? "GET",
        headers,
        body,
        signal: options.signal,
      });
    } catch (error) {
      throw toApiError(error);
    }
    if (!response.ok && response.status !== 304) {
      const error = await errorFromResponse(response);
      if (error.status === 401) this.options.onUnauthenticated?.(error);
      throw error;
    }
    const text = response.status === 204 ? "" : await response.text();
    const data = (text ? JSON.parse(text) : null) as T;
    return { data, status: response.status, headers: response.headers };
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>(path, options)).data;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, { query, signal });
  }

  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>(path, { method: "POST", body: body ?? {}, headers });
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: "PUT", body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: "PATCH", body });
  }

  delete<T = null>(path: string): Promise<T> {
    return this.request<T>(path, { method: "DELETE" });
  }

  /** A binary answer (a package download), with the same error handling. */
  async blob(path: string): Promise<Blob> {
    const token = await this.options.getToken();
    const fetcher = this.options.fetcher ?? fetch;
    let response: Response;
    try {
      response = await fetcher(this.url(path), {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    } catch (error) {
      throw toApiError(error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response.blob();
  }
}
