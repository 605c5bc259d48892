/** Placeholder: built by the console's next step. */
export default function KeysPage() {
  return (
    <section>
      <h1>My API keys</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
