import { Router } from "express";
import { NotFoundError, projectOf } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import { bulkReplayBody, type DeliveryView, type ReplayDryRun, type ReplayStarted } from "@hookbus/schemas";
import { auditAttempt, recordAudit } from "../audit-record.js";
import type { IngestMetrics } from "../metrics.js";
import { parseOr422 } from "../validate.js";
import { deliveryView, replayView } from "../views.js";
import { storedFilter } from "./deliveries.js";
import type { Guards } from "./guards.js";
import { requestedProject, visibleOr404 } from "./project-scope.js";

/** Replays: one delivery, a filtered bulk replay (dead letters by default), and its progress. */
export function replaysRouter(context: HookbusContext, guards: Guards, metrics: IngestMetrics): Router {
  const router = Router();

  router.post("/v1/deliveries/replay", ...guards.admin, async (request, response) => {
    const { dryRun, ratePerSecond, status, projectId, ...rest } = parseOr422(bulkReplayBody, request.body ?? {}, "replay");
    // A project's key replays its own project's deliveries, whatever else the filter says.
    const filter = { ...storedFilter(rest), status, projectId: requestedProject(request, projectId) };
    // As the request gave it (times in ISO 8601), with the project a project's key is held to.
    const asAsked = { ...rest, status, projectId: filter.projectId };
    if (dryRun) {
      const count = await context.replays.count(filter);
      await recordAudit(context, request, {
        action: "replay.start",
        resourceType: "replay",
        resourceId: "dry-run",
        projectId: filter.projectId,
        after: { filter: asAsked, dryRun: true, count },
      });
      response.json({ dryRun: true, count } satisfies ReplayDryRun);
      return;
    }
    const replay = await context.replays.startBulk({ filter, ratePerSecond });
    await recordAudit(context, request, {
      action: "replay.start",
      resourceType: "replay",
      resourceId: replay.id,
      projectId: filter.projectId,
      after: { filter: asAsked, dryRun: false, count: replay.total, ratePerSecond },
    });
    metrics.replays.inc({ kind: "bulk" });
    response.status(202).json({ id: replay.id, replayed: replay.total, status: replay.status } satisfies ReplayStarted);
  });

  router.post("/v1/deliveries/:id/replay", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const before = visibleOr404(request, await context.deliveries.get(id), "delivery", id);
    const attempt = { action: "delivery.replay", resourceType: "delivery", resourceId: id, projectId: projectOf(before) } as const;
    auditAttempt(response, { ...attempt, before: { status: before.status } });
    const delivery = await context.replays.replayOne(id);
    await recordAudit(context, request, {
      ...attempt,
      before: { status: before.status },
      after: { status: delivery.status },
    });
    metrics.replays.inc({ kind: "single" });
    response.status(202).json(deliveryView(delivery) satisfies DeliveryView);
  });

  router.get("/v1/replays/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const progress = await context.replays.progress(id);
    // An operator's replay across projects is no project's to see.
    if (request.apiProject !== undefined && progress.filter.projectId !== request.apiProject) throw new NotFoundError("replay", id);
    response.json(replayView(progress));
  });

  return router;
}
