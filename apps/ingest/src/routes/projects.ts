import { Router } from "express";
import { ConflictError } from "@hookbus/core/policy";
import { deleteSchedule } from "@hookbus/core/flows";
import type { HookbusContext } from "@hookbus/core/runtime";
import {
  createProjectBody,
  DEFAULT_PROJECT_ID,
  deleteProjectQuery,
  updateProjectBody,
  type ProjectList,
  type ProjectView,
} from "@hookbus/schemas";
import type { ProjectKeyLookup } from "../project-key-lookup.js";
import { parseOr422 } from "../validate.js";
import { projectView } from "../views.js";
import type { Guards } from "./guards.js";
import { projectVisibleOr404, requestedProject } from "./project-scope.js";

/** Projects: an operator makes and deletes them; a project's admin key reads and renames its own. */
export function projectsRouter(context: HookbusContext, guards: Guards, keyLookup: ProjectKeyLookup): Router {
  const router = Router();
  const { projects } = context;

  router.post("/v1/projects", ...guards.operator, async (request, response) => {
    const body = parseOr422(createProjectBody, request.body, "project");
    response.status(201).json(projectView(await projects.create(body)) satisfies ProjectView);
  });

  router.get("/v1/projects", ...guards.admin, async (request, response) => {
    const own = requestedProject(request);
    const all = own === undefined ? await projects.list() : [await projects.get(own)];
    response.json({ items: all.map(projectView) } satisfies ProjectList);
  });

  router.get("/v1/projects/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    projectVisibleOr404(request, id);
    response.json(projectView(await projects.get(id)) satisfies ProjectView);
  });

  router.patch("/v1/projects/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const patch = parseOr422(updateProjectBody, request.body, "project update");
    projectVisibleOr404(request, id);
    response.json(projectView(await projects.update(id, patch)) satisfies ProjectView);
  });

  router.delete("/v1/projects/:id", ...guards.operator, async (request, response) => {
    const id = request.params.id as string;
    const { cascade } = parseOr422(deleteProjectQuery, request.query, "query");
    if (id === DEFAULT_PROJECT_ID)
      throw new ConflictError("the default project holds what was made before projects, and cannot be deleted");
    await projects.get(id);
    const subscriptions = await context.subscriptions.ofProject(id);
    const schedules = await context.schedules.ofProject(id);
    if ((subscriptions.length > 0 || schedules.length > 0) && cascade !== "true")
      throw new ConflictError(
        `project ${id} has ${subscriptions.length} subscriptions and ${schedules.length} schedules: delete them first, or pass ?cascade=true`,
      );
    for (const subscription of subscriptions) await context.subscriptions.delete(subscription.id);
    // A schedule left behind would go on firing into a project that is gone.
    for (const schedule of schedules) await deleteSchedule(context, schedule);
    for (const digest of await projects.delete(id)) keyLookup.forget(digest);
    response.status(204).end();
  });

  return router;
}
