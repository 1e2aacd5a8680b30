import { once } from "node:events";
import { Router, type Request } from "express";
import type { AuditQuery } from "@hookbus/core/store";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import { auditFilter, auditListQuery, type AuditFilter, type AuditPage, type AuditVerifyResult } from "@hookbus/schemas";
import { HttpError } from "../http-errors.js";
import { parseOr422 } from "../validate.js";
import type { Guards } from "./guards.js";
import { requestedProject } from "./project-scope.js";

/**
 * The audit trail, read only: a page at a time, exported whole as NDJSON, verified. No route
 * changes or deletes an entry; those methods are answered 405.
 */
export function auditRouter(context: HookbusContext, guards: Guards, logger: Logger): Router {
  const router = Router();

  /** The API's filter as the trail takes it: times in ms, and a project's key held to its project. */
  const queryOf = (request: Request, { since, until, projectId, ...rest }: AuditFilter): AuditQuery => ({
    ...rest,
    projectId: requestedProject(request, projectId),
    since: since === undefined ? undefined : Date.parse(since),
    until: until === undefined ? undefined : Date.parse(until),
  });

  router.get("/v1/audit", ...guards.admin, async (request, response) => {
    const { limit, cursor, ...filter } = parseOr422(auditListQuery, request.query, "query");
    const page = await context.audit.page(queryOf(request, filter), limit, cursor);
    response.json({ items: page.items, nextCursor: page.nextCursor ?? null } satisfies AuditPage);
  });

  // The chain spans every project: an operator's to check.
  router.get("/v1/audit/verify", ...guards.operator, async (_request, response) => {
    response.json((await context.audit.verify()) satisfies AuditVerifyResult);
  });

  router.get("/v1/audit/export", ...guards.admin, async (request, response) => {
    const query = queryOf(request, parseOr422(auditFilter, request.query, "query"));
    response.type("application/x-ndjson");
    try {
      for await (const entry of context.audit.entries(query)) {
        if (response.destroyed) return;
        if (!response.write(JSON.stringify(entry) + "\n")) await once(response, "drain");
      }
      response.end();
    } catch (error) {
      // Part of the export is sent already: no error answer can follow it, so the connection is
      // cut, which the client sees as an incomplete export rather than a complete one.
      logger.error({ err: error }, "audit export failed part way");
      response.destroy();
    }
  });

  router.all(["/v1/audit", "/v1/audit/*rest"], (request, response, next) => {
    if (request.method === "GET" || request.method === "HEAD") return next();
    response.setHeader("Allow", "GET");
    next(new HttpError(405, `${request.method} is not allowed: the audit trail is append-only; entries cannot be changed or deleted`));
  });

  return router;
}
