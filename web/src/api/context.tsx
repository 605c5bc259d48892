/** The ApiClient for the signed-in session, shared by every page. */
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useSession } from "../auth";
import type { AppConfig } from "../config";
import { ApiClient } from "./client";

const ApiContext = createContext<ApiClient | null>(null);
const ConfigContext = createContext<AppConfig | null>(null);

export function ApiProvider({ config, children }: { config: AppConfig; children: ReactNode }) {
  const session = useSession();
  const { getToken, markExpired } = session;
  const client = useMemo(
    () => new ApiClient({ apiBase: config.apiBase, getToken, onUnauthenticated: markExpired }),
    [config.apiBase, getToken, markExpired],
  );
  return (
    <ConfigContext.Provider value={config}>
      <ApiContext.Provider value={client}>{children}</ApiContext.Provider>
    </ConfigContext.Provider>
  );
}

export function useApi(): ApiClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error("useApi outside ApiProvider");
  return client;
}

export function useConfig(): AppConfig {
  const config = useContext(ConfigContext);
  if (!config) throw new Error("useConfig outside ApiProvider");
  return config;
}
