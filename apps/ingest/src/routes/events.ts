import { Router } from "express";
import { publishProject } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import {
  publishBatchEnvelope,
  publishBody,
  type BatchPublishResult,
  type PublishBody,
  type PublishResult,
  type SyncPublishResult,
} from "@hookbus/schemas";
import { errorBody, RequestValidationError } from "../http-errors.js";
import type { IngestMetrics } from "../metrics.js";
import type { Publisher } from "../publish/publisher.js";
import { ASYNC_PUBLISH_DEADLINE_MS, beforeDeadline, UNAVAILABLE } from "../publish/deadline.js";
import { KnownProjects } from "../publish/known-projects.js";
import { publishShare } from "../publish-share.js";
import { parseOr422 } from "../validate.js";
import { eventView } from "../views.js";
import type { Guards } from "./guards.js";
import { visibleOr404 } from "./project-scope.js";

/** A batch answers a thousand items at most: a few issues each say enough to fix them. */
const MAX_ISSUES_PER_BATCH_ITEM = 3;

export function eventsRouter(context: HookbusContext, publisher: Publisher, guards: Guards, metrics: IngestMetrics): Router {
  const router = Router();
  const knownProjects = new KnownProjects(context.projects);
  /**
   * One event's project, checked (a project's key publishes in its own, an operator's in one that
   * exists), with its retention: read within the publish's deadline, so that a Redis that does not
   * answer gets the publisher a 503 in time, as the store would.
   */
  const eventProject = async (body: PublishBody, keyProject: string | undefined, started: number) =>
    beforeDeadline(
      knownProjects.placement(publishProject(body, keyProject), keyProject === undefined),
      started + ASYNC_PUBLISH_DEADLINE_MS,
      UNAVAILABLE,
    );
  /** One batch item checked, with the project it is published in; or why it is refused. */
  const placedInProject = async (item: unknown, keyProject: string | undefined, started: number) => {
    const parsed = publishBody.safeParse(item);
    if (!parsed.success) return new RequestValidationError("event", parsed.error, MAX_ISSUES_PER_BATCH_ITEM);
    return eventProject(parsed.data, keyProject, started).then(
      (placement) => ({ body: parsed.data, placement }),
      (error: unknown) => error as Error,
    );
  };

  router.post("/v1/events", ...guards.publisher, publishShare(context.config.maxSyncWaits), async (request, response) => {
    const body = parseOr422(publishBody, request.body, "event");
    const started = Date.now();
    const result = await publisher.publish(body, request.apiKeyId!, await eventProject(body, request.apiProject, started), started);
    if (result.created) metrics.eventsAccepted.inc({ event_type: result.event.type });
    request.log.info({ eventId: result.event.id, type: result.event.type, duplicate: !result.created }, "event accepted");
    const answer: PublishResult = { id: result.event.id, type: result.event.type, ...(result.created ? {} : { duplicate: true as const }) };
    for (const { outcome, durationMs } of result.sync ?? []) metrics.syncWait.observe({ outcome }, durationMs / 1000);
    if (result.sync) response.status(200).json({ ...answer, sync: result.sync } satisfies SyncPublishResult);
    else response.status(202).json(answer);
  });

  router.post("/v1/events/batch", ...guards.publisher, async (request, response) => {
    const { events } = parseOr422(publishBatchEnvelope, request.body, "batch");
    const started = Date.now();
    const placed = await Promise.all(events.map((item) => placedInProject(item, request.apiProject, started)));
    const valid = placed.flatMap((p) => (p instanceof Error ? [] : [p]));
    const stored = await publisher.publishBatch(valid, request.apiKeyId!, started);
    let next = 0;
    const items = placed.map((p) => {
      if (p instanceof Error) return errorBody(p)[1];
      const result = stored[next++]!;
      if (result instanceof Error) return errorBody(result)[1];
      if (result.created) metrics.eventsAccepted.inc({ event_type: result.event.type });
      return {
        id: result.event.id,
        type: result.event.type,
        ...(result.created ? {} : { duplicate: true as const }),
      } satisfies PublishResult;
    });
    request.log.info({ events: items.length, accepted: stored.filter((r) => !(r instanceof Error)).length }, "batch accepted");
    response.status(202).json({ items } satisfies BatchPublishResult);
  });

  router.get("/v1/events/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const event = visibleOr404(request, await context.events.get(id), "event", id);
    response.json(eventView(event, await context.deliveries.forEvent(event.id)));
  });

  return router;
}
