import { Router } from "express";
import { z } from "zod";
import { REPLAYABLE_STATUSES } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { IngestMetrics } from "../metrics.js";
import { parseOr422 } from "../validate.js";
import { deliveryView, replayView } from "../views.js";
import { deliveryFilterQuery } from "./deliveries.js";
import type { Guards } from "./guards.js";

/** The delivery filters of the listing, with the statuses a replay may take (dead letters by default). */
const bulkReplayBody = deliveryFilterQuery.extend({
  status: z.enum(REPLAYABLE_STATUSES).default("failed"),
  dryRun: z.boolean().default(false),
  ratePerSecond: z.number().positive().max(10_000).optional(),
});

/** Replays: one delivery, a filtered bulk replay (dead letters by default), and its progress. */
export function replaysRouter(context: HookbusContext, guards: Guards, metrics: IngestMetrics): Router {
  const router = Router();

  router.post("/v1/deliveries/replay", ...guards.admin, async (request, response) => {
    const { dryRun, ratePerSecond, ...filter } = parseOr422(bulkReplayBody, request.body ?? {}, "replay");
    if (dryRun) {
      response.json({ dryRun: true, count: await context.replays.count(filter) });
      return;
    }
    const replay = await context.replays.startBulk({ filter, ratePerSecond });
    metrics.replays.inc({ kind: "bulk" });
    response.status(202).json({ id: replay.id, replayed: replay.total, status: replay.status });
  });

  router.post("/v1/deliveries/:id/replay", ...guards.admin, async (request, response) => {
    const delivery = await context.replays.replayOne(request.params.id as string);
    metrics.replays.inc({ kind: "single" });
    response.status(202).json(deliveryView(delivery));
  });

  router.get("/v1/replays/:id", ...guards.admin, async (request, response) => {
    response.json(replayView(await context.replays.progress(request.params.id as string)));
  });

  return router;
}
