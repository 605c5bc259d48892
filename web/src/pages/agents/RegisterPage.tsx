/** Placeholder: built by the console's next step. */
export default function RegisterPage() {
  return (
    <section>
      <h1>Register an agent</h1>
      <p className="muted">This page is not built yet.</p>
    </section>
  );
}
