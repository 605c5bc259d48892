/** Placeholder: built by the console's next step. */
export default function TryToolPage() {
  return (
    <section>
      <h1>Try a tool</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
