/** Placeholder: built by the console's next step. */
export default function MyAgentPage() {
  return (
    <section>
      <h1>My agent</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
