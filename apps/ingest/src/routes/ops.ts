import { Router } from "express";
import type { Registry } from "prom-client";
import { redisReachable, type HookbusContext } from "@hookbus/core";

/** /healthz (the process is up), /readyz (Redis answers), /metrics. */
export function opsRouter(context: HookbusContext, registry: Registry): Router {
  const router = Router();
  router.get("/healthz", (_request, response) => {
    response.json({ status: "ok" });
  });
  router.get("/readyz", async (_request, response) => {
    const ready = await redisReachable(context.redis);
    response.status(ready ? 200 : 503).json({ status: ready ? "ready" : "redis unreachable" });
  });
  router.get("/metrics", async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
