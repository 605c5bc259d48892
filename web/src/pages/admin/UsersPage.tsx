/** Placeholder: built by the console's next step. */
export default function UsersPage() {
  return (
    <section>
      <h1>Users</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
