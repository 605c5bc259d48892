/** Whether a user matches what an admin typed: part of the email, the name or the uid. */
import type { UserRecord } from "./types";

export function matchesUser(user: UserRecord, filter: string): boolean {
  const wanted = filter.trim().toLowerCase();
  if (!wanted) return true;
  return [user.email, user.display_name, user.uid].some((value) => value?.toLowerCase().includes(wanted));
}
