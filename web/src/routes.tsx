/**
 * Every page of the console and who may open it. Every page but sign-in and the profile is
 * loaded on demand with `lazy` (forms from schemas, charts and the code highlighter come only
 * with the pages that use them), so the first page's JavaScript stays small (the size budget is in docs/benchmarks.md).
 */
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, type RouteObject } from "react-router-dom";
import { Layout, RequireUser } from "./components/Layout";
import { Loading } from "./components/bits";
import { ProfilePage } from "./pages/account/Profile";
import { SignInPage } from "./pages/account/SignIn";

/** Who may open a page: anyone, signed-in users, or admins. */
type Access = "anyone" | "user" | "admin";

function guard(page: ReactNode, access: Access): ReactNode {
  return access === "anyone" ? page : <RequireUser admin={access === "admin"}>{page}</RequireUser>;
}

const DirectoryPage = lazy(() => import("./pages/directory/DirectoryPage"));
const AgentPage = lazy(() => import("./pages/directory/AgentPage"));
const TryToolPage = lazy(() => import("./pages/directory/TryToolPage"));
const MyAgentsPage = lazy(() => import("./pages/owner/MyAgentsPage"));
const RegisterPage = lazy(() => import("./pages/owner/RegisterPage"));
const MyAgentPage = lazy(() => import("./pages/owner/MyAgentPage"));
const KeysPage = lazy(() => import("./pages/owner/KeysPage"));
const CatalogPage = lazy(() => import("./pages/tools/CatalogPage"));
const ToolPage = lazy(() => import("./pages/tools/ToolPage"));
const FactoryPage = lazy(() => import("./pages/factory/FactoryPage"));
const JobPage = lazy(() => import("./pages/factory/JobPage"));
const UsagePage = lazy(() => import("./pages/usage/UsagePage"));
const QueuePage = lazy(() => import("./pages/admin/QueuePage"));
const UsersPage = lazy(() => import("./pages/admin/UsersPage"));
const DashboardPage = lazy(() => import("./pages/admin/DashboardPage"));
const AlertsPage = lazy(() => import("./pages/admin/AlertsPage"));

function onDemand(page: ReactNode, access: Access = "anyone"): ReactNode {
  return guard(<Suspense fallback={<Loading />}>{page}</Suspense>, access);
}

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/agents" replace /> },
      { path: "signin", element: <SignInPage mode="signin" /> },
      { path: "signup", element: <SignInPage mode="signup" /> },
      { path: "account", element: guard(<ProfilePage />, "user") },
      { path: "agents", element: onDemand(<DirectoryPage />) },
      { path: "agents/:agentId", element: onDemand(<AgentPage />) },
      { path: "agents/:agentId/tools/:toolName", element: onDemand(<TryToolPage />, "user") },
      { path: "my/agents", element: onDemand(<MyAgentsPage />, "user") },
      { path: "my/agents/new", element: onDemand(<RegisterPage />, "user") },
      { path: "my/agents/:agentId", element: onDemand(<MyAgentPage />, "user") },
      { path: "my/keys", element: onDemand(<KeysPage />, "user") },
      { path: "my/usage", element: onDemand(<UsagePage />, "user") },
      { path: "tools", element: onDemand(<CatalogPage />) },
      { path: "tools/:toolId", element: onDemand(<ToolPage />) },
      { path: "factory", element: onDemand(<FactoryPage />, "user") },
      { path: "factory/jobs/:jobId", element: onDemand(<JobPage />, "user") },
      { path: "admin/queue", element: onDemand(<QueuePage />, "admin") },
      { path: "admin/users", element: onDemand(<UsersPage />, "admin") },
      { path: "admin/dashboard", element: onDemand(<DashboardPage />, "admin") },
      { path: "admin/alerts", element: onDemand(<AlertsPage />, "admin") },
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
