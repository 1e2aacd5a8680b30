import { HookbusApiError, HookbusClient, HookbusUnreachableError } from "@hookbus/client";

export { HookbusApiError, HookbusClient, HookbusUnreachableError };

/** The key lives in this tab's sessionStorage only: closing the tab signs out. */
const STORAGE_KEY = "hookbus.console.apiKey";

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function rememberKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The API of the ingest that served this page: the console talks to no other origin. */
export function clientFor(apiKey: string): HookbusClient {
  return new HookbusClient({ baseUrl: window.location.origin, apiKey });
}

/** An error as one sentence for the page. */
export function describeError(error: unknown): string {
  if (error instanceof HookbusApiError) return error.message;
  if (error instanceof HookbusUnreachableError) return "The Hookbus API did not answer. Is the ingest running?";
  return error instanceof Error ? error.message : String(error);
}

/** What signing in with a key answered: admin, or why not. */
export type SignInOutcome = { ok: true } | { ok: false; reason: string };

/** Tries the key on an admin route: only admin keys may use the console. */
export async function checkAdminKey(key: string): Promise<SignInOutcome> {
  try {
    await clientFor(key).subscriptions.list({ limit: 1 });
    return { ok: true };
  } catch (error) {
    if (error instanceof HookbusApiError && error.status === 401)
      return { ok: false, reason: "That API key is not known to this Hookbus. Check it and try again." };
    if (error instanceof HookbusApiError && error.status === 403) {
      return {
        ok: false,
        reason: "This is a publisher key: it may publish events but may not administer webhooks. Sign in with an admin key.",
      };
    }
    return { ok: false, reason: describeError(error) };
  }
}
