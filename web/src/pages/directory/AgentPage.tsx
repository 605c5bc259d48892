/** Placeholder: built by the console's next step. */
export default function AgentPage() {
  return (
    <section>
      <h1>Agent</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
