/** The frame of every page: skip link, navigation, the session, the theme switch. */
import { useEffect, useState, type ReactNode } from "react";
import { Link, NavLink, Navigate, Outlet, useLocation } from "react-router-dom";
import { useSession } from "../auth";
import { Loading } from "./bits";

type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("agora-theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function Layout() {
  const session = useSession();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("agora-theme", theme);
  }, [theme]);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const links: Array<[string, string, boolean]> = [
    ["/agents", "Directory", true],
    ["/tools", "Tool catalog", true],
    ["/factory", "Tool Factory", !!session.user],
    ["/my/agents", "My agents", !!session.user],
    ["/my/keys", "API keys", !!session.user],
    ["/my/usage", "Usage", !!session.user],
    ["/admin/queue", "Vetting queue", session.isAdmin],
    ["/admin/dashboard", "Dashboard", session.isAdmin],
    ["/admin/alerts", "Alerts", session.isAdmin],
    ["/admin/users", "Users", session.isAdmin],
  ];

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Agora
        </Link>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? "open" : ""}>
          <ul>
            {links
              .filter(([, , shown]) => shown)
              .map(([to, label]) => (
                <li key={to}>
                  <NavLink to={to}>{label}</NavLink>
                </li>
              ))}
          </ul>
        </nav>
        <div className="session">
          <button
            type="button"
            className="ghost"
            aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
            onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          >
            {theme === "dark" ? "Light" : "Dark"}
          </button>
          {session.user ? (
            <>
              <NavLink to="/account" className="account-link">
                {session.user.displayName || session.user.email}
              </NavLink>
              <button type="button" className="ghost" onClick={() => void session.signOut()}>
                Sign out
              </button>
            </>
          ) : (
            <NavLink to="/signin">Sign in</NavLink>
          )}
        </div>
      </header>
      {session.expired && session.user === null && (
        <div className="notice notice-error banner" role="alert">
          Your session has ended. <Link to="/signin">Sign in again</Link>.
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {session.ready ? <Outlet /> : <Loading what="Starting" />}
      </main>
    </>
  );
}

/** Pages for signed-in users (and admins, with `admin`): others are sent to sign in. */
export function RequireUser({ admin = false, children }: { admin?: boolean; children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session.user) return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  if (admin && !session.isAdmin) {
    return (
      <section>
        <h1>Admins only</h1>
        <p className="notice notice-error" role="alert">
          This page is for platform admins. Your account does not have the admin role.
        </p>
      </section>
    );
  }
  return <>{children}</>;
}
