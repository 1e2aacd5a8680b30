import { useCallback, useEffect, useState } from "preact/hooks";
import { describeError, HookbusApiError } from "./api.js";
import { useSession } from "./session.js";

export type Loaded<T> = { state: "loading" } | { state: "error"; message: string } | { state: "ready"; value: T };

/**
 * Loads what a page shows, again whenever `deps` change or `reload` is called. An answer that
 * the key is no longer valid signs out; an answer that arrives after a newer load is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const { signOut } = useSession();
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setLoaded({ state: "ready", value }),
      (error: unknown) => {
        if (!current) return;
        if (error instanceof HookbusApiError && error.status === 401) return signOut();
        setLoaded({ state: "error", message: describeError(error) });
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  return [loaded, useCallback(() => setGeneration((g) => g + 1), [])];
}
