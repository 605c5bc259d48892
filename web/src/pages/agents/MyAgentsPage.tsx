/** Placeholder: built by the console's next step. */
export default function MyAgentsPage() {
  return (
    <section>
      <h1>My agents</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
