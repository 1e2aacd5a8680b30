import type { RequestHandler } from "express";

/** The authentication each route needs: admin keys may do everything, publisher keys only publish. */
export interface Guards {
  admin: RequestHandler[];
  publisher: RequestHandler[];
}
