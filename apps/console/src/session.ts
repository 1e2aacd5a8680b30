import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { HookbusClient } from "./api.js";

export interface Session {
  hookbus: HookbusClient;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in admin's client; pages below the sign-in form only. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
