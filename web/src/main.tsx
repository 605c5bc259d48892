/** Boot: read /config.json, connect Firebase Auth, then render the console. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider, createBrowserRouter } from "react-router-dom";
import { ApiProvider } from "./api/context";
import { ApiError } from "./api/errors";
import { SessionProvider, makeAuth } from "./auth";
import { loadConfig } from "./config";
import { routes } from "./routes";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      // Errors the caller must act on are not retried; a flaky network is, once.
      retry: (count, error) =>
        count < 1 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

loadConfig()
  .then((config) => {
    const auth = makeAuth(config);
    const router = createBrowserRouter(routes);
    root.render(
      <StrictMode>
        <SessionProvider auth={auth}>
          <ApiProvider config={config}>
            <QueryClientProvider client={queries}>
              <RouterProvider router={router} />
            </QueryClientProvider>
          </ApiProvider>
        </SessionProvider>
      </StrictMode>,
    );
  })
  .catch((error: Error) => {
    root.render(
      <main className="boot-error" role="alert">
        <h1>The console could not start</h1>
        <p>{error.message}</p>
      </main>,
    );
  });
