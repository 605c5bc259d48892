/** Placeholder: built by the console's next step. */
export default function DashboardPage() {
  return (
    <section>
      <h1>Dashboard</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
