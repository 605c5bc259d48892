/**
 * The console's runtime configuration, read once from `/config.json` before anything renders.
 *
 * The same build serves every environment: `make dev` and the tests write a config that points at
 * the local gateway and the Auth emulator; `make deploy-web` writes the project's Firebase web
 * config, with `apiBase` empty so `/api/**` goes through Hosting's rewrite to the gateway.
 */
export interface AppConfig {
  /** Origin of the gateway ("" means same origin, through Firebase Hosting's rewrite). */
  apiBase: string;
  firebase: { apiKey: string; authDomain: string; projectId: string };
  /** `http://host:port` of the Firebase Auth emulator, in local mode only. */
  authEmulator?: string;
  /** How often the admin dashboard refreshes itself, in milliseconds. */
  dashboardRefreshMs?: number;
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetcher("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`The console's configuration could not be read (HTTP ${response.status}).`);
  }
  const config = (await response.json()) as AppConfig;
  if (typeof config.apiBase !== "string" || !config.firebase?.projectId) {
    throw new Error("The console's configuration is incomplete (apiBase, firebase.projectId).");
  }
  return config;
}
