// Who is signed in, for the UI: restored on load with one refresh, cleared when the session ends.
import { useEffect, useState } from "preact/hooks";
import { api, onSessionChange, refreshSession, signIn, signOut, unwrap } from "./api/client";
import type { Account } from "./api/types";

export type Session = { status: "loading" } | { status: "anonymous" } | { status: "signed-in"; me: Account };

let current: Session = { status: "loading" };
const subscribers = new Set<(s: Session) => void>();

function set(next: Session): void {
  current = next;
  subscribers.forEach((s) => s(next));
}

onSessionChange((signedIn) => {
  if (!signedIn) set({ status: "anonymous" });
});

export async function reloadMe(): Promise<void> {
  set({ status: "signed-in", me: unwrap(await api.GET("/api/v1/users/me")) });
}

export async function restoreSession(): Promise<void> {
  if (await refreshSession()) await reloadMe().catch(() => set({ status: "anonymous" }));
  else set({ status: "anonymous" });
}

export async function logIn(email: string, password: string): Promise<Account> {
  await signIn(email, password);
  await reloadMe();
  return (current as { me: Account }).me;
}

export async function logOut(): Promise<void> {
  await signOut();
}

export function useSession(): Session {
  const [session, setSession] = useState(current);
  useEffect(() => {
    subscribers.add(setSession);
    setSession(current);
    return () => {
      subscribers.delete(setSession);
    };
  }, []);
  return session;
}

export function useMe(): Account | null {
  const session = useSession();
  return session.status === "signed-in" ? session.me : null;
}
