/**
 * Sign-in with the Firebase JS SDK: Email/Password and Google, the Auth emulator in local mode.
 *
 * The SDK keeps the session in memory (`inMemoryPersistence`): the ID token is never written to
 * localStorage or IndexedDB by the SDK or by our code, so a reload asks the user to sign in again.
 */
import { initializeApp, type FirebaseApp } from "firebase/app";
import {
  GoogleAuthProvider,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  browserPopupRedirectResolver,
  inMemoryPersistence,
  initializeAuth,
  onIdTokenChanged,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut as firebaseSignOut,
  updateProfile,
  type Auth,
  type User,
} from "firebase/auth";
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { AppConfig } from "./config";

export interface Session {
  /** False until Firebase has said whether someone is signed in. */
  ready: boolean;
  user: User | null;
  isAdmin: boolean;
  /** Set when the API answered 401: the page asks the user to sign in again. */
  expired: boolean;
  markExpired: () => void;
  getToken: () => Promise<string | null>;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string, displayName?: string) => Promise<void>;
  signInWithGoogle: () => Promise<void>;
  signOut: () => Promise<void>;
  /** Fetches a fresh token, e.g. after an admin grant. */
  refresh: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function makeAuth(config: AppConfig): Auth {
  const app: FirebaseApp = initializeApp(config.firebase);
  // initializeAuth (unlike getAuth) wires no popup handler by itself: Google's popup needs one.
  const auth = initializeAuth(app, {
    persistence: inMemoryPersistence,
    popupRedirectResolver: browserPopupRedirectResolver,
  });
  if (config.authEmulator) connectAuthEmulator(auth, config.authEmulator, { disableWarnings: true });
  return auth;
}

export function SessionProvider({ auth, children }: { auth: Auth; children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [user, setUser] = useState<User | null>(null);
  const [isAdmin, setIsAdmin] = useState(false);
  const [expired, setExpired] = useState(false);

  useEffect(
    () =>
      onIdTokenChanged(auth, async (next) => {
        setUser(next);
        setIsAdmin(next ? (await next.getIdTokenResult()).claims.admin === true : false);
        if (next) setExpired(false);
        setReady(true);
      }),
    [auth],
  );

  const session = useMemo<Session>(
    () => ({
      ready,
      user,
      isAdmin,
      expired,
      markExpired: () => setExpired(true),
      getToken: async () => (auth.currentUser ? auth.currentUser.getIdToken() : null),
      signIn: async (email, password) => {
        await signInWithEmailAndPassword(auth, email, password);
      },
      signUp: async (email, password, displayName) => {
        const credential = await createUserWithEmailAndPassword(auth, email, password);
        if (displayName) await updateProfile(credential.user, { displayName });
      },
      signInWithGoogle: async () => {
        await signInWithPopup(auth, new GoogleAuthProvider());
      },
      signOut: async () => {
        await firebaseSignOut(auth);
      },
      refresh: async () => {
        if (!auth.currentUser) return;
        await auth.currentUser.getIdToken(true);
        setIsAdmin((await auth.currentUser.getIdTokenResult()).claims.admin === true);
      },
    }),
    [auth, ready, user, isAdmin, expired],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** Firebase Auth's error codes, in words. */
export function describeAuthError(error: unknown): string {
  const code = (error as { code?: string })?.code ?? "";
  const words: Record<string, string> = {
    "auth/invalid-credential": "That email and password do not match an account.",
    "auth/wrong-password": "That email and password do not match an account.",
    "auth/user-not-found": "That email and password do not match an account.",
    "auth/invalid-email": "That is not a valid email address.",
    "auth/email-already-in-use": "An account with that email already exists. Sign in instead.",
    "auth/weak-password": "Choose a password of at least 6 characters.",
    "auth/too-many-requests": "Too many attempts. Wait a moment and try again.",
    "auth/network-request-failed": "The sign-in service could not be reached.",
    "auth/popup-closed-by-user": "The Google sign-in window was closed before it finished.",
    "auth/user-disabled": "This account has been disabled.",
  };
  // Unknown codes are still named, so a person can quote them when they ask for help.
  return words[code] ?? `Sign-in failed${code ? ` (${code})` : ""}. Please try again.`;
}
