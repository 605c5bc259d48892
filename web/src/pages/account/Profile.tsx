/** The signed-in user's profile, from the auth service. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useApi } from "../../api/context";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { JsonView, Loading } from "../../components/bits";

interface Profile {
  uid: string;
  email?: string | null;
  display_name?: string | null;
  [key: string]: unknown;
}

export function ProfilePage() {
  const api = useApi();
  const session = useSession();
  const queries = useQueryClient();
  const profile = useQuery({
    queryKey: ["profile"],
    queryFn: () => api.get<Profile>("/auth/user/profile"),
  });
  const [displayName, setDisplayName] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (name: string) => api.patch<Profile>("/auth/user/profile", { display_name: name }),
    onSuccess: (data) => queries.setQueryData(["profile"], data),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const name = displayName ?? profile.data?.display_name ?? session.user?.displayName ?? "";
    save.mutate(name);
  }

  return (
    <section className="narrow">
      <h1>Your profile</h1>
      <p>
        Signed in as <strong>{session.user?.email}</strong>
        {session.isAdmin && <span className="badge badge-admin">Admin</span>}
      </p>
      {profile.isPending && <Loading />}
      <ErrorNotice error={profile.error} />
      {profile.data && (
        <>
          <form onSubmit={submit} className="stack">
            <label>
              Display name
              <input
                value={displayName ?? profile.data.display_name ?? session.user?.displayName ?? ""}
                onChange={(e) => setDisplayName(e.target.value)}
              />
            </label>
            <ErrorNotice error={save.error} />
            {save.isSuccess && <p role="status">Saved.</p>}
            <button type="submit" disabled={save.isPending}>
              Save
            </button>
          </form>
          <details>
            <summary>Everything the platform keeps about you</summary>
            <JsonView value={profile.data} label="Profile" />
          </details>
        </>
      )}
    </section>
  );
}
