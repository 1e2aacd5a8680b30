import type { RequestHandler } from "express";
import { API_KEY_PREFIX, apiKeyDigest, operatorKeyId } from "@hookbus/core/policy";
import type { ApiKey, ApiRole } from "@hookbus/core/runtime";
import type { AuthFailureThrottle } from "./auth-throttle.js";
import { HttpError } from "./http-errors.js";
import type { ProjectKeyLookup } from "./project-key-lookup.js";
import { logQuietly } from "./request-log.js";

declare module "express-serve-static-core" {
  interface Request {
    /** The role of the API key that made the request, set by requireRole. */
    apiRole?: ApiRole;
    /** A short, non-secret name for the key, for rate limits and logs. */
    apiKeyId?: string;
    /**
     * The project the key belongs to, set by requireRole; undefined for an operator key (one of
     * HOOKBUS_API_KEYS), which acts on every project.
     */
    apiProject?: string;
    /** Who the key is, as the audit trail names them; set by requireRole. */
    caller?: CallerIdentity;
  }
}

/**
 * A key's identity: the `key_` id of a project's key, whose name the audit trail looks up when it
 * needs it, or the fingerprint id and name of a key of HOOKBUS_API_KEYS.
 */
export interface CallerIdentity {
  keyId: string;
  role: Caller;
  name?: string;
  projectId?: string;
}

/**
 * Who may call a route: "operator" is an admin key of HOOKBUS_API_KEYS alone; "admin" is that
 * or a project's admin key; "publisher" any publisher key besides.
 */
export type Caller = "operator" | ApiRole;

/**
 * The key from `Bearer KEY`, or from Basic auth with the key as the password: a browser
 * asks for that one itself, which is how people reach the queue dashboard.
 */
function presentedKey(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const credentials = Buffer.from(basic[1]!, "base64").toString("utf8");
  const password = credentials.slice(credentials.indexOf(":") + 1);
  return password || undefined;
}

/**
 * Bearer-key authentication. Keys are looked up by their SHA-256, so the comparison never
 * runs over the secret itself and leaks nothing through timing: first the operator keys of
 * HOOKBUS_API_KEYS, then the project keys made through the API. Unknown keys are counted by
 * the throttle, which refuses an address that has sent too many.
 */
export function apiKeyAuth(keys: ApiKey[], projectKeys: ProjectKeyLookup, throttle: AuthFailureThrottle) {
  const operatorKeys = new Map(keys.map(({ key, role, name }) => [apiKeyDigest(key), { role, keyId: operatorKeyId(key), name }]));

  /** Lets through keys of the given kinds: admin keys may do everything, publisher keys only publish. */
  return function requireRole(...allowed: Caller[]): RequestHandler {
    return (request, response, next) => {
      const refused = throttle.refusal(request);
      const key = presentedKey(request.headers.authorization ?? "");
      if (refused || !key) {
        // Anyone may send these by the thousand (a browser sends one without a key before each
        // Basic auth prompt): the throttle logs a refused address once.
        logQuietly(response);
        return next(refused ?? new HttpError(401, "missing API key: send Authorization: Bearer KEY"));
      }
      const digest = apiKeyDigest(key);
      const operatorKey = operatorKeys.get(digest);
      // Only keys made through the API are looked up in Redis: any other unknown key is refused without a round trip.
      const found = operatorKey
        ? Promise.resolve({ ...operatorKey, projectId: undefined })
        : key.startsWith(API_KEY_PREFIX)
          ? projectKeys.find(digest)
          : Promise.resolve(undefined);
      found.then((grant) => {
        if (!grant) return void throttle.failed(request, response, new HttpError(401, "unknown API key")).then(next);
        const caller: Caller = grant.role === "admin" && grant.projectId === undefined ? "operator" : grant.role;
        const allowedHere = allowed.includes(caller) || (caller === "operator" && allowed.includes("admin"));
        if (!allowedHere) return next(new HttpError(403, `a ${grant.projectId ? "project's " : ""}${caller} key may not do this`));
        request.apiRole = grant.role;
        request.apiKeyId = digest.slice(0, 12);
        request.apiProject = grant.projectId;
        request.caller = { keyId: grant.keyId, role: caller, projectId: grant.projectId, name: "name" in grant ? grant.name : undefined };
        next();
      }, next);
    };
  };
}
