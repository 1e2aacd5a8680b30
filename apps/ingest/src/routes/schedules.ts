import { Router, type Request, type Response } from "express";
import { changedFields, patchedDefinition, projectOf, publishProject, type ScheduleDefinition } from "@hookbus/core/policy";
import { createSchedules, deleteSchedule, pauseSchedule, resumeSchedule, updateSchedule } from "@hookbus/core/flows";
import type { Schedule } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import {
  createScheduleBatchEnvelope,
  createScheduleBody,
  scheduleDefinition,
  scheduleListQuery,
  updateScheduleBody,
  type CreateScheduleBody,
  type ScheduleBatchResult,
  type SchedulePage,
  type ScheduleView,
  type ScheduleWithFires,
} from "@hookbus/schemas";
import { auditAttempt, recordAudit } from "../audit-record.js";
import { errorBody, RequestValidationError } from "../http-errors.js";
import { KnownProjects } from "../publish/known-projects.js";
import { parseOr422 } from "../validate.js";
import { scheduleFireView, scheduleView } from "../views.js";
import type { Guards } from "./guards.js";
import { requestedProject, visibleOr404 } from "./project-scope.js";

/**
 * A schedule as its audit entries show it: its name and timing, never its `data`. The data names
 * a participant, and the trail is kept for years and is not erased with the participant.
 */
function auditedSettings(schedule: Schedule): Record<string, unknown> {
  const { name, cron, timezone, every, at, startAt, endAt, limit, catchUp, paused } = schedule;
  return { name, cron, timezone, every, at, startAt, endAt, limit, catchUp, paused };
}

function scheduleResource(schedule: Schedule) {
  return { resourceType: "schedule", resourceId: schedule.id, projectId: projectOf(schedule) };
}

/** A batch answers a thousand items at most: a few issues each say enough to fix them. */
const MAX_ISSUES_PER_BATCH_ITEM = 3;

/**
 * Schedules (admin): each fires `schedule.triggered` events in its project. The changes
 * themselves are the flows' (flows/schedule-lifecycle), one function an action.
 */
export function schedulesRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();
  const { schedules } = context;
  const knownProjects = new KnownProjects(context.projects);

  /** The schedule of the path, when the request's key may see its project; else 404. */
  const own = async (request: Request) => {
    const id = request.params.id as string;
    return visibleOr404(request, await schedules.get(id), "schedule", id);
  };
  const view = async (schedule: Schedule): Promise<ScheduleView> => scheduleView(schedule, await schedules.state(schedule.id));

  /**
   * The project a schedule fires in, checked as a publish of its event would be: a project's key
   * makes schedules in its own project, for its own MyDataHelps project's participants.
   */
  const placed = async (body: CreateScheduleBody, keyProject: string | undefined) => {
    const { projectId: named, ...definition } = body;
    const project = publishProject({ type: "schedule.triggered", data: { ...body.data, scheduleId: "-" }, projectId: named }, keyProject);
    if (keyProject === undefined) await knownProjects.placement(project, true);
    return { definition: definition as ScheduleDefinition, projectId: project };
  };

  router.post("/v1/schedules", ...guards.admin, async (request, response) => {
    const body = parseOr422(createScheduleBody, request.body, "schedule");
    const [schedule] = await createSchedules(context, [await placed(body, request.apiProject)]);
    await recordAudit(context, request, { action: "schedule.create", ...scheduleResource(schedule!), after: auditedSettings(schedule!) });
    response.status(201).json(await view(schedule!));
  });

  router.post("/v1/schedules/batch", ...guards.admin, async (request, response) => {
    const { schedules: items } = parseOr422(createScheduleBatchEnvelope, request.body, "batch");
    const checked = await Promise.all(
      items.map(async (item) => {
        const parsed = createScheduleBody.safeParse(item);
        if (!parsed.success) return new RequestValidationError("schedule", parsed.error, MAX_ISSUES_PER_BATCH_ITEM);
        return placed(parsed.data, request.apiProject).catch((error: unknown) => error as Error);
      }),
    );
    const made = await createSchedules(
      context,
      checked.flatMap((c) => (c instanceof Error ? [] : [c])),
    );
    for (const schedule of made) {
      await recordAudit(context, request, { action: "schedule.create", ...scheduleResource(schedule), after: auditedSettings(schedule) });
    }
    let next = 0;
    const fresh = { through: 0, fires: 0 };
    const answer = checked.map((c) => (c instanceof Error ? errorBody(c)[1] : scheduleView(made[next++]!, fresh)));
    response.status(201).json({ items: answer } satisfies ScheduleBatchResult);
  });

  router.get("/v1/schedules", ...guards.admin, async (request, response) => {
    const query = parseOr422(scheduleListQuery, request.query, "query");
    const page = await schedules.list(query.limit, query.cursor, requestedProject(request, query.projectId));
    const states = await schedules.states(page.items.map((s) => s.id));
    response.json({
      items: page.items.map((s, i) => scheduleView(s, states[i]!)),
      nextCursor: page.nextCursor ?? null,
    } satisfies SchedulePage);
  });

  router.get("/v1/schedules/:id", ...guards.admin, async (request, response) => {
    const schedule = await own(request);
    const recentFires = (await schedules.recentFires(schedule.id)).map(scheduleFireView);
    response.json({ ...(await view(schedule)), recentFires } satisfies ScheduleWithFires);
  });

  router.patch("/v1/schedules/:id", ...guards.admin, async (request, response) => {
    const patch = parseOr422(updateScheduleBody, request.body, "schedule update");
    const schedule = await own(request);
    const definition = parseOr422(scheduleDefinition, patchedDefinition(schedule, patch), "schedule");
    if (patch.data) publishProject({ type: "schedule.triggered", data: { ...patch.data, scheduleId: "-" } }, request.apiProject);
    auditAttempt(response, { action: "schedule.update", ...scheduleResource(schedule) });
    const updated = await updateSchedule(context, schedule, definition);
    const [before, after] = [auditedSettings(schedule), auditedSettings(updated)];
    await recordAudit(context, request, {
      action: "schedule.update",
      ...scheduleResource(updated),
      ...changedFields({ before, after }, { before, after }),
    });
    response.json(await view(updated));
  });

  router.delete("/v1/schedules/:id", ...guards.admin, async (request, response) => {
    const schedule = await own(request);
    auditAttempt(response, { action: "schedule.delete", ...scheduleResource(schedule), before: auditedSettings(schedule) });
    await deleteSchedule(context, schedule);
    await recordAudit(context, request, { action: "schedule.delete", ...scheduleResource(schedule), before: auditedSettings(schedule) });
    response.status(204).end();
  });

  /** Pause and resume: the schedule after the change, audited as `action`. */
  const switched =
    (action: "schedule.pause" | "schedule.resume", change: typeof pauseSchedule) => async (request: Request, response: Response) => {
      const schedule = await own(request);
      auditAttempt(response, { action, ...scheduleResource(schedule) });
      const changed = await change(context, schedule);
      await recordAudit(context, request, {
        action,
        ...scheduleResource(changed),
        before: { paused: schedule.paused },
        after: { paused: changed.paused },
      });
      response.json(await view(changed));
    };
  router.post("/v1/schedules/:id/pause", ...guards.admin, switched("schedule.pause", pauseSchedule));
  router.post("/v1/schedules/:id/resume", ...guards.admin, switched("schedule.resume", resumeSchedule));

  return router;
}
