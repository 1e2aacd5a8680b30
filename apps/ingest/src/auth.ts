import { createHash } from "node:crypto";
import type { RequestHandler } from "express";
import type { ApiKey, ApiRole } from "@hookbus/core/runtime";
import type { AuthFailureThrottle } from "./auth-throttle.js";
import { HttpError } from "./http-errors.js";
import { logQuietly } from "./request-log.js";

declare module "express-serve-static-core" {
  interface Request {
    /** The role of the API key that made the request, set by requireRole. */
    apiRole?: ApiRole;
    /** A short, non-secret name for the key, for rate limits and logs. */
    apiKeyId?: string;
  }
}

function digest(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

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
 * runs over the secret itself and leaks nothing through timing. Unknown keys are counted by
 * the throttle, which refuses an address that has sent too many.
 */
export function apiKeyAuth(keys: ApiKey[], throttle: AuthFailureThrottle) {
  const roles = new Map(keys.map(({ key, role }) => [digest(key), role]));

  /** Lets through keys of the given roles: admin keys may do everything, publisher keys only publish. */
  return function requireRole(...allowed: ApiRole[]): RequestHandler {
    return (request, response, next) => {
      const refused = throttle.refusal(request);
      const key = presentedKey(request.headers.authorization ?? "");
      if (refused || !key) {
        // Anyone may send these by the thousand (a browser sends one without a key before each
        // Basic auth prompt): the throttle logs a refused address once.
        logQuietly(response);
        return next(refused ?? new HttpError(401, "missing API key: send Authorization: Bearer KEY"));
      }
      const hash = digest(key);
      const role = roles.get(hash);
      if (!role) return void throttle.failed(request, response, new HttpError(401, "unknown API key")).then(next);
      if (!allowed.includes(role)) return next(new HttpError(403, `a ${role} key may not do this`));
      request.apiRole = role;
      request.apiKeyId = hash.slice(0, 12);
      next();
    };
  };
}
