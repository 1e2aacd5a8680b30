import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Router } from "express";
import { HttpError } from "../http-errors.js";

const require = createRequire(import.meta.url);

/** Where the console's build lands; absent until `npm run build` has run. */
const CONSOLE_DIST = path.join(path.dirname(require.resolve("@hookbus/console/package.json")), "dist");

// The page and its API calls stay on this origin: the browser refuses anything else.
// uPlot and Preact set styles through the CSSOM, which style-src does not govern.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * The admin console at /console: its index.html is revalidated on every visit (it names the
 * current assets), the assets under /console/assets/ carry their content hash in their names
 * and are kept by browsers for a year.
 */
export function consoleRouter(): Router {
  const router = Router();
  const securityHeaders = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };

  // One route for both: without strict routing, express matches /console and /console/ alike.
  router.get("/console", (request, response, next) => {
    // The page's asset paths are relative to /console/, so the bare path moves there.
    if (!request.path.endsWith("/")) return response.redirect(301, "/console/");
    if (!existsSync(path.join(CONSOLE_DIST, "index.html"))) return next(new HttpError(503, "the console is not built: run npm run build"));
    response.sendFile("index.html", { root: CONSOLE_DIST, headers: { ...securityHeaders, "Cache-Control": "no-cache" } });
  });
  router.get("/console/assets/:file", (request, response, next) => {
    // `root` keeps sendFile inside the folder; the name is one path segment in any case.
    response.sendFile(
      request.params.file as string,
      { root: path.join(CONSOLE_DIST, "assets"), immutable: true, maxAge: "365d", dotfiles: "deny", headers: securityHeaders },
      (error) => {
        if (error && !response.headersSent) next(new HttpError(404, "no such console asset"));
      },
    );
  });
  return router;
}
