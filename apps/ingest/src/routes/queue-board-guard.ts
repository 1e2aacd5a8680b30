import type { Request, RequestHandler } from "express";
import { HttpError } from "../http-errors.js";

/** Methods that only read; every other one changes queues. */
const READING = new Set(["GET", "HEAD", "OPTIONS"]);

/** The board's pages may not be framed by another site, whose page could click its buttons. */
export const boardPageHeaders: RequestHandler = (_request, response, next) => {
  response.setHeader("Content-Security-Policy", "frame-ancestors 'none'");
  next();
};

/**
 * Whether the request comes from a page of this very site. A browser remembers the board's
 * Basic auth and sends it with requests that other sites' pages make, so the credentials alone
 * prove nothing: browsers say where a request comes from in Sec-Fetch-Site, and in Origin,
 * which a page cannot forge. A request with neither is refused too.
 */
function fromThisSite(request: Request): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin";
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * Guards the board's state-changing requests (add, retry, clean, pause, ...): refused while the
 * board is read-only, else taken only from this site's own pages and only as JSON (an HTML form
 * on another site can send text/plain or form data without asking, never JSON).
 */
export function boardChangeGuard(writable: boolean): RequestHandler {
  return (request, _response, next) => {
    if (READING.has(request.method)) return next();
    if (!writable) return next(new HttpError(405, "the queue board is read-only: set HOOKBUS_QUEUE_BOARD_WRITABLE=true to allow changes"));
    if (!fromThisSite(request)) return next(new HttpError(403, "the queue board takes changes only from its own pages"));
    const contentType = request.headers["content-type"];
    if (contentType !== undefined && !request.is("application/json")) {
      return next(new HttpError(415, `the queue board takes changes as application/json, not ${contentType}`));
    }
    next();
  };
}
