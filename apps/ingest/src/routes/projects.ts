import { Router } from "express";
import type { Project } from "@hookbus/core/store";
import { deleteSchedule } from "@hookbus/core/flows";
import type { HookbusContext } from "@hookbus/core/runtime";
import {
  createProjectBody,
  DEFAULT_PROJECT_ID,
  deleteProjectQuery,
  parseDuration,
  updateProjectBody,
  type ProjectList,
  type ProjectView,
} from "@hookbus/schemas";
import { changedFields, ConflictError, parseRetrySchedule, scheduleBeyondRetention, UnprocessableError } from "@hookbus/core/policy";
import { auditAttempt, recordAudit } from "../audit-record.js";
import type { ProjectKeyLookup } from "../project-key-lookup.js";
import { parseOr422 } from "../validate.js";
import { projectView, subscriptionSettings } from "../views.js";
import type { Guards } from "./guards.js";
import { projectVisibleOr404, requestedProject } from "./project-scope.js";

/** Projects: an operator makes and deletes them; a project's admin key reads and renames its own. */
export function projectsRouter(context: HookbusContext, guards: Guards, keyLookup: ProjectKeyLookup): Router {
  const router = Router();
  const { projects } = context;

  /** Its retry schedule must end within its retention, or a retrying delivery would expire first. */
  const refuseScheduleBeyondRetention = (project: Pick<Project, "retrySchedule" | "retention">) => {
    const tooLong =
      project.retrySchedule && scheduleBeyondRetention(project.retrySchedule, project.retention ?? context.config.retentionMs);
    if (tooLong) throw new UnprocessableError(tooLong, project.retention === undefined ? ["retrySchedule"] : ["retention"]);
  };

  router.post("/v1/projects", ...guards.operator, async (request, response) => {
    const body = parseOr422(createProjectBody, request.body, "project");
    refuseScheduleBeyondRetention({
      retrySchedule: body.retrySchedule && parseRetrySchedule(body.retrySchedule),
      retention: body.retention === undefined ? undefined : parseDuration(body.retention),
    });
    const project = projectView(await projects.create(body));
    await recordAudit(context, request, { action: "project.create", ...projectResource(project.id), after: project });
    response.status(201).json(project satisfies ProjectView);
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
    const before = await projects.get(id);
    auditAttempt(response, { action: "project.update", ...projectResource(id) });
    const after = await projects.update(id, patch, Date.now(), refuseScheduleBeyondRetention);
    await recordAudit(context, request, {
      action: "project.update",
      ...projectResource(id),
      ...changedFields({ before, after }, { before: projectView(before), after: projectView(after) }),
    });
    response.json(projectView(after) satisfies ProjectView);
  });

  router.delete("/v1/projects/:id", ...guards.operator, async (request, response) => {
    const id = request.params.id as string;
    const { cascade } = parseOr422(deleteProjectQuery, request.query, "query");
    const project = await projects.get(id);
    auditAttempt(response, { action: "project.delete", ...projectResource(id), before: projectView(project) });
    if (id === DEFAULT_PROJECT_ID)
      throw new ConflictError("the default project holds what was made before projects, and cannot be deleted");
    const subscriptions = await context.subscriptions.ofProject(id);
    const schedules = await context.schedules.ofProject(id);
    if ((subscriptions.length > 0 || schedules.length > 0) && cascade !== "true")
      throw new ConflictError(
        `project ${id} has ${subscriptions.length} subscriptions and ${schedules.length} schedules: delete them first, or pass ?cascade=true`,
      );
    for (const subscription of subscriptions) {
      await context.subscriptions.delete(subscription.id);
      await recordAudit(context, request, {
        action: "subscription.delete",
        resourceType: "subscription",
        resourceId: subscription.id,
        projectId: id,
        before: subscriptionSettings(subscription),
      });
    }
    // A schedule left behind would go on firing into a project that is gone.
    for (const schedule of schedules) await deleteSchedule(context, schedule);
    const digests = await projects.delete(id);
    for (const digest of digests) keyLookup.forget(digest);
    await recordAudit(context, request, {
      action: "project.delete",
      ...projectResource(id),
      before: { ...projectView(project), keys: digests.length, subscriptions: subscriptions.length, schedules: schedules.length },
    });
    response.status(204).end();
  });

  return router;
}

function projectResource(id: string) {
  return { resourceType: "project", resourceId: id, projectId: id };
}
