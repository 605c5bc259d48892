/** Placeholder: built by the console's next step. */
export default function ToolPage() {
  return (
    <section>
      <h1>Tool</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
