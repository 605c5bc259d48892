/** Placeholder: built by the console's next step. */
export default function AlertsPage() {
  return (
    <section>
      <h1>Alerts</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
