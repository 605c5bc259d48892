/** Placeholder: built by the console's next step. */
export default function QueuePage() {
  return (
    <section>
      <h1>Vetting queue</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
