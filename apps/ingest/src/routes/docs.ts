import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Router } from "express";
import { openApiDocument } from "@hookbus/schemas";

const require = createRequire(import.meta.url);
/** Redoc's sidebar always fetches its vendor logo from Redocly's CDN. */
const VENDOR_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
/**
 * The renderer, read once, with that one URL blanked: the pages load nothing from outside the
 * ingest, and an image without a source reports an error, on which Redoc hides it.
 */
const REDOC_BUNDLE = readFileSync(require.resolve("redoc/bundles/redoc.standalone.js"), "utf8").replace(VENDOR_LOGO, "");
const REDOC_VERSION = (require("redoc/package.json") as { version: string }).version;
const INGEST_VERSION = (require("../../package.json") as { version: string }).version;

/** The renderer's script, by a path that changes with its version, so browsers may keep it for good. */
const SCRIPT_PATH = `/docs/redoc-${REDOC_VERSION}.js`;

// Everything the page needs comes from this origin: the policy makes the browser refuse
// anything else, and no other site may frame the page. Redoc injects its styles and runs its
// search in a worker made from a blob.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src blob:; connect-src 'self'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Hookbus API reference</title>
<style>body { margin: 0; }</style>
</head>
<body>
<redoc spec-url="/v1/openapi.json" hide-download-button="false"></redoc>
<script src="${SCRIPT_PATH}"></script>
</body>
</html>
`;

/** The OpenAPI document at /v1/openapi.json, and reference pages rendered from it at /docs. */
export function docsRouter(): Router {
  const router = Router();
  const document = JSON.stringify(openApiDocument(INGEST_VERSION));

  router.get("/v1/openapi.json", (_request, response) => {
    response.type("application/json").setHeader("Cache-Control", "no-cache").send(document);
  });
  router.get("/docs", (_request, response) => {
    response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    response.setHeader("Cache-Control", "no-cache");
    response.type("html").send(PAGE);
  });
  router.get(SCRIPT_PATH, (_request, response) => {
    response.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    response.type("text/javascript; charset=utf-8").send(REDOC_BUNDLE);
  });
  return router;
}
