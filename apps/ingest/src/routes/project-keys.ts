import { Router, type Request } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { createProjectKeyBody, type ProjectKeyList, type ProjectKeyWithSecret } from "@hookbus/schemas";
import { recordAudit } from "../audit-record.js";
import type { ProjectKeyLookup } from "../project-key-lookup.js";
import { parseOr422 } from "../validate.js";
import { projectKeyView } from "../views.js";
import type { Guards } from "./guards.js";
import { projectVisibleOr404 } from "./project-scope.js";

/** A project's API keys: made (the key shown once), listed (never the key), revoked at once. */
export function projectKeysRouter(context: HookbusContext, guards: Guards, lookup: ProjectKeyLookup): Router {
  const router = Router();
  const { projects } = context;
  /** The project of the path, when the request's key may see it. */
  const project = async (request: Request) => {
    const id = request.params.id as string;
    projectVisibleOr404(request, id);
    return projects.get(id);
  };

  router.post("/v1/projects/:id/keys", ...guards.admin, async (request, response) => {
    const { id } = await project(request);
    const body = parseOr422(createProjectKeyBody, request.body, "key");
    const { record, key } = await projects.createKey(id, body);
    await recordAudit(context, request, {
      action: "key.create",
      resourceType: "key",
      resourceId: record.id,
      projectId: id,
      after: projectKeyView(record),
    });
    request.log.info({ projectId: id, keyId: record.id, role: record.role }, "API key made");
    response.status(201).json({ ...projectKeyView(record), key } satisfies ProjectKeyWithSecret);
  });

  router.get("/v1/projects/:id/keys", ...guards.admin, async (request, response) => {
    const { id } = await project(request);
    response.json({ items: (await projects.listKeys(id)).map(projectKeyView) } satisfies ProjectKeyList);
  });

  router.delete("/v1/projects/:id/keys/:keyId", ...guards.admin, async (request, response) => {
    const { id } = await project(request);
    const keyId = request.params.keyId as string;
    const revoked = await projects.revokeKey(id, keyId);
    lookup.forget(revoked.digest);
    await recordAudit(context, request, {
      action: "key.revoke",
      resourceType: "key",
      resourceId: keyId,
      projectId: id,
      before: projectKeyView(revoked.key),
    });
    request.log.info({ projectId: id, keyId }, "API key revoked");
    response.status(204).end();
  });

  return router;
}
