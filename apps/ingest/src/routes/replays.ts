import { Router } from "express";
import { NotFoundError } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import { bulkReplayBody, type DeliveryView, type ReplayDryRun, type ReplayStarted } from "@hookbus/schemas";
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
    if (dryRun) {
      response.json({ dryRun: true, count: await context.replays.count(filter) } satisfies ReplayDryRun);
      return;
    }
    const replay = await context.replays.startBulk({ filter, ratePerSecond });
    metrics.replays.inc({ kind: "bulk" });
    response.status(202).json({ id: replay.id, replayed: replay.total, status: replay.status } satisfies ReplayStarted);
  });

  router.post("/v1/deliveries/:id/replay", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    visibleOr404(request, await context.deliveries.get(id), "delivery", id);
    const delivery = await context.replays.replayOne(id);
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
