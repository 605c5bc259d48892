/** Placeholder: built by the console's next step. */
export default function DirectoryPage() {
  return (
    <section>
      <h1>Agent directory</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
