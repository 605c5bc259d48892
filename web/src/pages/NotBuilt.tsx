/** A page the console routes but does not have yet: said plainly, not faked. */
import { Link } from "react-router-dom";

export function NotBuilt({ title }: { title: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p className="notice notice-warn" role="status">
        This page is not in the console yet. Everything it will show is already in the API:{" "}
        <a href="/api/v1/openapi.json">the API's OpenAPI document</a>.
      </p>
      <p>
        <Link to="/account">Your profile</Link> works today.
      </p>
    </section>
  );
}
