import { Router } from "express";
import type { Registry } from "prom-client";
import { redisReachable } from "@hookbus/core/store";
import { metricsAccessAllowed, type HookbusContext } from "@hookbus/core/runtime";
import { HttpError } from "../http-errors.js";

/** /healthz (the process is up), /readyz (Redis answers), /metrics (behind a bearer token when one is set). */
export function opsRouter(context: HookbusContext, registry: Registry, metricsToken: string | undefined): Router {
  const router = Router();
  router.get("/healthz", (_request, response) => {
    response.json({ status: "ok" });
  });
  router.get("/readyz", async (_request, response) => {
    const ready = await redisReachable(context.redis);
    response.status(ready ? 200 : 503).json({ status: ready ? "ready" : "redis unreachable" });
  });
  router.get("/metrics", async (request, response) => {
    if (!metricsAccessAllowed(request.headers.authorization, metricsToken))
      throw new HttpError(401, "send Authorization: Bearer with the metrics token");
    response.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
