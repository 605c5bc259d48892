/**
 * Every page of the console and who may open it. Pages with heavy dependencies (forms from
 * schemas, charts) are to be loaded on demand with `lazy`, so the first page's JavaScript stays
 * small (the size budget is in docs/benchmarks.md).
 */
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, type RouteObject } from "react-router-dom";
import { Layout, RequireUser } from "./components/Layout";
import { Loading } from "./components/bits";
import { NotBuilt } from "./pages/NotBuilt";
import { ProfilePage } from "./pages/account/Profile";
import { SignInPage } from "./pages/account/SignIn";

/** Who may open a page: anyone, signed-in users, or admins. */
type Access = "anyone" | "user" | "admin";

function guard(page: ReactNode, access: Access): ReactNode {
  return access === "anyone" ? page : <RequireUser admin={access === "admin"}>{page}</RequireUser>;
}

const DirectoryPage = lazy(() => import("./pages/directory/DirectoryPage"));
const AgentPage = lazy(() => import("./pages/directory/AgentPage"));
const UsagePage = lazy(() => import("./pages/usage/UsagePage"));
const QueuePage = lazy(() => import("./pages/admin/QueuePage"));
const UsersPage = lazy(() => import("./pages/admin/UsersPage"));
const DashboardPage = lazy(() => import("./pages/admin/DashboardPage"));
const AlertsPage = lazy(() => import("./pages/admin/AlertsPage"));

function onDemand(page: ReactNode, access: Access = "anyone"): ReactNode {
  return guard(<Suspense fallback={<Loading />}>{page}</Suspense>, access);
}

/** A routed page still to come (docs/console.md lists which). */
function notBuilt(title: string, access: Access = "anyone"): ReactNode {
  return guard(<NotBuilt title={title} />, access);
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
      { path: "agents/:agentId/tools/:toolName", element: notBuilt("Try a tool", "user") },
      { path: "my/agents", element: notBuilt("My agents", "user") },
      { path: "my/agents/new", element: notBuilt("Register an agent", "user") },
      { path: "my/agents/:agentId", element: notBuilt("My agent", "user") },
      { path: "my/keys", element: notBuilt("My API keys", "user") },
      { path: "my/usage", element: onDemand(<UsagePage />, "user") },
      { path: "tools", element: notBuilt("Tool catalog") },
      { path: "tools/:toolId", element: notBuilt("Tool") },
      { path: "factory", element: notBuilt("Tool Factory", "user") },
      { path: "factory/jobs/:jobId", element: notBuilt("Tool Factory job", "user") },
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
