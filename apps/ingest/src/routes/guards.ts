import type { RequestHandler } from "express";

/**
 * What each route runs before its handler: authentication, the rate limit, then the JSON body
 * parser. Operator keys (HOOKBUS_API_KEYS admin) may do everything in every project; a
 * project's admin key everything within its project; publisher keys only publish.
 */
export interface Guards {
  operator: RequestHandler[];
  admin: RequestHandler[];
  publisher: RequestHandler[];
}
