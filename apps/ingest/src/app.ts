import express, { type Express } from "express";
import { rateLimit } from "express-rate-limit";
import type { Registry } from "prom-client";
import type { HookbusContext, Logger, SubscriptionCache, SyncOutcomeListener } from "@hookbus/core";
import { apiKeyAuth } from "./auth.js";
import { errorHandler, HttpError } from "./http-errors.js";
import type { IngestMetrics } from "./metrics.js";
import { Publisher } from "./publish.js";
import { requestLog } from "./request-log.js";
import { deliveriesRouter } from "./routes/deliveries.js";
import { eventsRouter } from "./routes/events.js";
import type { Guards } from "./routes/guards.js";
import { opsRouter } from "./routes/ops.js";
import { queueBoardRouter } from "./routes/queue-board.js";
import { replaysRouter } from "./routes/replays.js";
import { subscriptionsRouter } from "./routes/subscriptions.js";

export interface IngestDependencies {
  context: HookbusContext;
  subscriptionCache: SubscriptionCache;
  syncOutcomes: SyncOutcomeListener;
  registry: Registry;
  metrics: IngestMetrics;
  logger: Logger;
}

/** Body size limit of the contract. */
export const MAX_BODY = "1mb";

/** The ingest HTTP API: publish, subscriptions, deliveries, ops. It enqueues; it never delivers. */
export function createIngestApp({ context, subscriptionCache, syncOutcomes, registry, metrics, logger }: IngestDependencies): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(requestLog(logger));
  app.use(metrics.middleware());
  app.use(opsRouter(context, registry));

  const requireRole = apiKeyAuth(context.config.apiKeys);
  const limited = rateLimiter(context.config.rateLimitPerSecond);
  const guards: Guards = {
    admin: [requireRole("admin"), ...limited],
    publisher: [requireRole("admin", "publisher"), ...limited],
  };

  app.use(...queueBoardRouter(context, guards.admin));
  app.use(express.json({ limit: MAX_BODY, type: () => true }));
  const publisher = new Publisher(context, syncOutcomes, subscriptionCache);
  app.use(eventsRouter(context, publisher, guards, metrics));
  app.use(subscriptionsRouter(context, publisher, guards, { secretOverlapMs: context.config.secretOverlapMs }, logger));
  app.use(replaysRouter(context, guards, metrics));
  app.use(deliveriesRouter(context, guards));
  app.use((_request, _response, next) => next(new HttpError(404, "no such route")));
  app.use(errorHandler(logger));
  return app;
}

/** Per-key requests per second, in this process's memory. */
function rateLimiter(perSecond: number) {
  if (perSecond === 0) return [];
  return [
    rateLimit({
      windowMs: 1000,
      limit: perSecond,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      keyGenerator: (request) => request.apiKeyId ?? "anonymous",
      handler: (_request, _response, next) => next(new HttpError(429, `rate limit of ${perSecond} requests per second exceeded`)),
    }),
  ];
}
