/** Placeholder: built by the console's next step. */
export default function CatalogPage() {
  return (
    <section>
      <h1>Tool catalog</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
