/** Users (admins): everyone with an account, and the admin role granted or revoked. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useApi } from "../../api/context";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, Loading, formatTime } from "../../components/bits";
import { AdminToggle } from "./AdminToggle";
import type { UserPage } from "./types";
import { matchesUser } from "./userFilter";
import "./admin.css";

export default function UsersPage() {
  const api = useApi();
  const [filter, setFilter] = useState("");
  const users = useInfiniteQuery({
    queryKey: ["admin-users"],
    queryFn: ({ pageParam }) => api.get<UserPage>("/auth/admin/users", { limit: 100, page_token: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_page_token,
  });
  const all = users.data?.pages.flatMap((page) => page.users) ?? [];
  const shown = all.filter((user) => matchesUser(user, filter));

  return (
    <section>
      <h1>Users</h1>
      <p className="muted">
        Admins work the vetting queue, see every agent and everyone's costs, and grant this role. A grant takes effect
        when the user's session next refreshes its token; a revoke also ends their sessions.
      </p>
      <label className="users-filter">
        Find by email, name or uid
        <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </label>
      <ErrorNotice error={users.error} />
      {users.isPending && <Loading what="Reading the users" />}
      {users.isSuccess && (
        <p className="muted small" role="status">
          {filter ? `${shown.length} of ${all.length} loaded users match.` : `${all.length} users loaded.`}
          {users.hasNextPage && " More users can be loaded below."}
        </p>
      )}
      {users.isSuccess && shown.length === 0 && <Empty>No user matches.</Empty>}
      {shown.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Created</th>
                <th scope="col">Role</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((user) => (
                <tr key={user.uid} data-uid={user.uid}>
                  <th scope="row">
                    {user.email ?? "(no email)"}
                    {user.display_name && <span className="muted"> · {user.display_name}</span>}
                    <br />
                    <code className="small">{user.uid}</code>
                    {user.disabled && <span className="badge badge-suspended">Disabled</span>}
                  </th>
                  <td>{formatTime(user.created_at)}</td>
                  <td>{user.admin ? <span className="badge badge-admin">Admin</span> : "User"}</td>
                  <td>
                    <AdminToggle user={user} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {users.hasNextPage && (
        <button
          type="button"
          className="secondary"
          disabled={users.isFetchingNextPage}
          onClick={() => void users.fetchNextPage()}
        >
          More users
        </button>
      )}
    </section>
  );
}
