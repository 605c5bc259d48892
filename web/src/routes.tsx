/**
 * Every page of the console. Pages past the first are loaded on demand, so the first page's
 * JavaScript stays small (the size budget is in docs/benchmarks.md).
 */
import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from "react";
import { Navigate, type RouteObject } from "react-router-dom";
import { Layout, RequireUser } from "./components/Layout";
import { Loading } from "./components/bits";
import { ProfilePage } from "./pages/account/Profile";
import { SignInPage } from "./pages/account/SignIn";

type Page = LazyExoticComponent<ComponentType>;

const pages = {
  directory: lazy(() => import("./pages/directory/DirectoryPage")),
  agent: lazy(() => import("./pages/directory/AgentPage")),
  tryTool: lazy(() => import("./pages/directory/TryToolPage")),
  myAgents: lazy(() => import("./pages/agents/MyAgentsPage")),
  register: lazy(() => import("./pages/agents/RegisterPage")),
  myAgent: lazy(() => import("./pages/agents/MyAgentPage")),
  keys: lazy(() => import("./pages/keys/KeysPage")),
  usage: lazy(() => import("./pages/usage/UsagePage")),
  catalog: lazy(() => import("./pages/catalog/CatalogPage")),
  tool: lazy(() => import("./pages/catalog/ToolPage")),
  factory: lazy(() => import("./pages/factory/FactoryPage")),
  job: lazy(() => import("./pages/factory/JobPage")),
  queue: lazy(() => import("./pages/admin/QueuePage")),
  users: lazy(() => import("./pages/admin/UsersPage")),
  dashboard: lazy(() => import("./pages/admin/DashboardPage")),
  alerts: lazy(() => import("./pages/admin/AlertsPage")),
} satisfies Record<string, Page>;

function show(Component: Page, access: "anyone" | "user" | "admin" = "anyone") {
  const page = (
    <Suspense fallback={<Loading />}>
      <Component />
    </Suspense>
  );
  return access === "anyone" ? page : <RequireUser admin={access === "admin"}>{page}</RequireUser>;
}

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/agents" replace /> },
      { path: "signin", element: <SignInPage mode="signin" /> },
      { path: "signup", element: <SignInPage mode="signup" /> },
      { path: "account", element: <RequireUser><ProfilePage /></RequireUser> },
      { path: "agents", element: show(pages.directory) },
      { path: "agents/:agentId", element: show(pages.agent) },
      { path: "agents/:agentId/tools/:toolName", element: show(pages.tryTool, "user") },
      { path: "my/agents", element: show(pages.myAgents, "user") },
      { path: "my/agents/new", element: show(pages.register, "user") },
      { path: "my/agents/:agentId", element: show(pages.myAgent, "user") },
      { path: "my/keys", element: show(pages.keys, "user") },
      { path: "my/usage", element: show(pages.usage, "user") },
      { path: "tools", element: show(pages.catalog) },
      { path: "tools/:toolId", element: show(pages.tool) },
      { path: "factory", element: show(pages.factory, "user") },
      { path: "factory/jobs/:jobId", element: show(pages.job, "user") },
      { path: "admin/queue", element: show(pages.queue, "admin") },
      { path: "admin/users", element: show(pages.users, "admin") },
      { path: "admin/dashboard", element: show(pages.dashboard, "admin") },
      { path: "admin/alerts", element: show(pages.alerts, "admin") },
      { path: "*", element: <NotFound /> },
    ],
  },
];

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page here. Go to the <a href="/agents">agent directory</a>.
      </p>
    </section>
  );
}
