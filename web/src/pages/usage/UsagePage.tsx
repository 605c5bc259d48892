/** Placeholder: built by the console's next step. */
export default function UsagePage() {
  return (
    <section>
      <h1>My usage and costs</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
