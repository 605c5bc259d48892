/** Grant or revoke one user's admin role; revoking asks to confirm first. */
import { useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useApi } from "../../api/context";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import type { UserPage, UserRecord } from "./types";

export function AdminToggle({ user }: { user: UserRecord }) {
  const api = useApi();
  const session = useSession();
  const queries = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const who = user.email ?? user.uid;
  const change = useMutation({
    mutationFn: (grant: boolean) => {
      const path = `/auth/admin/users/${encodeURIComponent(user.uid)}/admin`;
      return grant ? api.put<UserRecord>(path) : api.delete<UserRecord>(path);
    },
    onSuccess: (after) => {
      setConfirming(false);
      queries.setQueryData<InfiniteData<UserPage>>(["admin-users"], (data) =>
        data && {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            users: page.users.map((one) => (one.uid === after.uid ? after : one)),
          })),
        },
      );
    },
  });
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  if (user.uid === session.user?.uid) return <span className="muted small">You (another admin can change your role)</span>;
  if (!user.admin) {
    return (
      <>
        <button type="button" className="secondary" disabled={change.isPending} aria-label={`Grant admin to ${who}`} onClick={() => change.mutate(true)}>
          Grant admin
        </button>
        <ErrorNotice error={change.error} />
      </>
    );
  }
  if (!confirming) {
    return (
      <>
        <button type="button" className="danger" aria-label={`Revoke admin from ${who}`} onClick={() => setConfirming(true)}>
          Revoke admin
        </button>
        <ErrorNotice error={change.error} />
      </>
    );
  }
  return (
    <div className="confirm" role="group" aria-label={`Confirm revoking admin from ${who}`}>
      <p>
        Revoke admin from <strong>{who}</strong>? Their sessions end now, and they lose every admin page.
      </p>
      <div className="row">
        <button ref={confirmButton} type="button" className="danger" disabled={change.isPending} onClick={() => change.mutate(false)}>
          Yes, revoke admin
        </button>
        <button type="button" className="ghost" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
      <ErrorNotice error={change.error} />
    </div>
  );
}
