import { Router } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { bulkReplayBody, type DeliveryView, type ReplayDryRun, type ReplayStarted } from "@hookbus/schemas";
import type { IngestMetrics } from "../metrics.js";
import { parseOr422 } from "../validate.js";
import { deliveryView, replayView } from "../views.js";
import { storedFilter } from "./deliveries.js";
import type { Guards } from "./guards.js";

/** Replays: one delivery, a filtered bulk replay (dead letters by default), and its progress. */
export function replaysRouter(context: HookbusContext, guards: Guards, metrics: IngestMetrics): Router {
  const router = Router();

  router.post("/v1/deliveries/replay", ...guards.admin, async (request, response) => {
    const { dryRun, ratePerSecond, status, ...rest } = parseOr422(bulkReplayBody, request.body ?? {}, "replay");
    const filter = { ...storedFilter(rest), status };
    if (dryRun) {
      response.json({ dryRun: true, count: await context.replays.count(filter) } satisfies ReplayDryRun);
      return;
    }
    const replay = await context.replays.startBulk({ filter, ratePerSecond });
    metrics.replays.inc({ kind: "bulk" });
    response.status(202).json({ id: replay.id, replayed: replay.total, status: replay.status } satisfies ReplayStarted);
  });

  router.post("/v1/deliveries/:id/replay", ...guards.admin, async (request, response) => {
    const delivery = await context.replays.replayOne(request.params.id as string);
    metrics.replays.inc({ kind: "single" });
    response.status(202).json(deliveryView(delivery) satisfies DeliveryView);
  });

  router.get("/v1/replays/:id", ...guards.admin, async (request, response) => {
    response.json(replayView(await context.replays.progress(request.params.id as string)));
  });

  return router;
}
