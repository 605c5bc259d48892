/** Placeholder: built by the console's next step. */
export default function FactoryPage() {
  return (
    <section>
      <h1>Tool Factory</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
