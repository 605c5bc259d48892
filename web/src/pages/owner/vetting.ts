/** Reading vetting's answers about one agent; "none yet" is an answer, not an error. */
import { ApiError } from "../../api/errors";
import type { ApiClient } from "../../api/client";

export interface Decision {
  agent_id: string;
  decision: "approved" | "rejected" | "suspended" | "reinstated";
  status: string;
  reason?: string | null;
  decided_by: string;
  decided_at: string;
  deploy?: Record<string, unknown> | null;
  webhook?: Record<string, unknown> | null;
}

/** GET, with the given 404 code read as "nothing yet" (null). */
export async function readOrNone<T>(api: ApiClient, path: string, noneCode: string): Promise<T | null> {
  try {
    return await api.get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === noneCode) return null;
    throw error;
  }
}

