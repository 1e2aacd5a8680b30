import { useEffect, useState } from "preact/hooks";

/** Where the console is: the part of the URL after `#`, e.g. `#/deliveries?status=failed`. */
export interface Route {
  /** The path's segments: `["deliveries", "dlv_..."]`. */
  segments: string[];
  query: URLSearchParams;
}

function currentRoute(): Route {
  const [path = "", query = ""] = window.location.hash.replace(/^#/, "").split("?", 2);
  return { segments: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

/**
 * The route, following the hash. The hash keeps every page on the one URL the ingest serves
 * (/console/), so a reload or a shared link works without server-side routes.
 */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const follow = () => setRoute(currentRoute());
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}

/** The query parameter naming the project shown; every link keeps it unless it names another. */
export const PROJECT_PARAM = "project";

/**
 * A link target: `href("deliveries", id)` or with a query. The current project goes along, so
 * that following a link or applying a filter stays in the project the admin picked.
 */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const segments = parts.filter((p): p is string => typeof p === "string").map(encodeURIComponent);
  const query = parts.find((p): p is Record<string, string | undefined> => typeof p === "object");
  const project = currentRoute().query.get(PROJECT_PARAM) ?? undefined;
  const entries = Object.entries({ [PROJECT_PARAM]: project, ...query });
  const params = new URLSearchParams(entries.filter((entry): entry is [string, string] => Boolean(entry[1])));
  const search = params.toString();
  return `#/${segments.join("/")}${search ? `?${search}` : ""}`;
}

export function navigate(target: string): void {
  window.location.hash = target;
}
