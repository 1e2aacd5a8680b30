import { Router } from "express";
import { NotFoundError } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import { createErasureBody, erasureFields } from "@hookbus/schemas";
import { erasureAuditRecord } from "@hookbus/core/flows";
import { recordAudit } from "../audit-record.js";
import { parseOr422 } from "../validate.js";
import { erasureView } from "../views.js";
import type { Guards } from "./guards.js";
import { requestedProject } from "./project-scope.js";

/**
 * Erasure of one participant's data, and its receipt. A small erasure is carried out before the
 * answer (201, done); a large one by a worker (202, running: its receipt says how far it got).
 */
export function erasuresRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();

  router.post("/v1/erasures", ...guards.admin, async (request, response) => {
    const body = parseOr422(createErasureBody, request.body ?? {}, "erasure");
    const field = erasureFields.find((f) => body[f] !== undefined)!;
    // A project's key erases in its own project; an operator's in the one it names, or in all.
    const projectId = requestedProject(request, body.projectId);
    const { receipt, finished } = await context.erasures.start({ field, value: body[field]!, projectId });
    await recordAudit(context, request, erasureAuditRecord("erasure.create", receipt));
    response.status(finished ? 201 : 202).json(erasureView(receipt));
  });

  router.get("/v1/erasures/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const receipt = await context.erasures.receipt(id);
    // An operator's erasure across projects is no project's to see.
    if (request.apiProject !== undefined && receipt.projectId !== request.apiProject) throw new NotFoundError("erasure", id);
    response.json(erasureView(receipt));
  });

  return router;
}
