import type { RequestHandler } from "express";

/**
 * What each route runs before its handler: authentication (admin keys may do everything,
 * publisher keys only publish), the rate limit, then the JSON body parser.
 */
export interface Guards {
  admin: RequestHandler[];
  publisher: RequestHandler[];
}
