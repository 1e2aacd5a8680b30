import express, { type Express } from "express";
import type { Registry } from "prom-client";
import type { SubscriptionCache, SyncOutcomeListener } from "@hookbus/core/store";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import { recordFailedAttempts } from "./audit-record.js";
import { apiKeyAuth } from "./auth.js";
import { AuthFailureThrottle } from "./auth-throttle.js";
import { errorHandler, HttpError } from "./http-errors.js";
import type { IngestMetrics } from "./metrics.js";
import { ProjectKeyLookup } from "./project-key-lookup.js";
import { Publisher } from "./publish/publisher.js";
import { jsonBody, rateLimiter } from "./request-limits.js";
import { requestLog } from "./request-log.js";
import { auditRouter } from "./routes/audit.js";
import { deliveriesRouter } from "./routes/deliveries.js";
import { consoleRouter } from "./routes/console.js";
import { docsRouter } from "./routes/docs.js";
import { erasuresRouter } from "./routes/erasures.js";
import { eventsRouter } from "./routes/events.js";
import type { Guards } from "./routes/guards.js";
import { opsRouter } from "./routes/ops.js";
import { overviewRouter } from "./routes/overview.js";
import { projectKeysRouter } from "./routes/project-keys.js";
import { projectsRouter } from "./routes/projects.js";
import { schedulesRouter } from "./routes/schedules.js";
import { queueBoardRouter } from "./routes/queue-board.js";
import { replaysRouter } from "./routes/replays.js";
import { secretsRouter } from "./routes/secrets.js";
import { subscriptionsRouter } from "./routes/subscriptions.js";

export interface IngestDependencies {
  context: HookbusContext;
  subscriptionCache: SubscriptionCache;
  syncOutcomes: SyncOutcomeListener;
  registry: Registry;
  metrics: IngestMetrics;
  logger: Logger;
}

/** The ingest HTTP API: publish, subscriptions, deliveries, ops. It enqueues; it never delivers. */
export function createIngestApp({ context, subscriptionCache, syncOutcomes, registry, metrics, logger }: IngestDependencies): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // No answer is to be read by a browser as another type than it says (a JSON error as HTML, say).
  app.use((_request, response, next) => {
    response.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  app.use(requestLog(logger));
  app.use(metrics.middleware());
  app.use(opsRouter(context, registry, context.config.metricsToken));
  app.use(docsRouter());
  app.use(consoleRouter());

  // Who is asking and how often come first: the body is parsed only after both passed.
  const authFailures = new AuthFailureThrottle(context.redis, context.config.queuePrefix, context.config.authFailureLimit, logger);
  const projectKeys = new ProjectKeyLookup(context.projects, (error) => logger.warn({ err: error }, "recording a key's use failed"));
  const requireRole = apiKeyAuth(context.config.apiKeys, projectKeys, authFailures);
  const limited = rateLimiter(context.redis, context.config.queuePrefix, context.config.rateLimitPerSecond, logger);
  const body = jsonBody();
  // The queue dashboard shows every project's jobs: an operator's alone.
  app.use(...queueBoardRouter(context, [requireRole("operator"), ...limited]));
  const guards: Guards = {
    operator: [requireRole("operator"), ...limited, ...body],
    admin: [requireRole("admin"), ...limited, ...body],
    publisher: [requireRole("admin", "publisher"), ...limited, ...body],
  };

  const publisher = new Publisher(context, syncOutcomes, subscriptionCache);
  app.use(eventsRouter(context, publisher, guards, metrics));
  app.use(subscriptionsRouter(context, publisher, guards, { secretOverlapMs: context.config.secretOverlapMs }, logger));
  app.use(replaysRouter(context, guards, metrics));
  app.use(erasuresRouter(context, guards));
  app.use(deliveriesRouter(context, guards));
  app.use(overviewRouter(context, guards));
  app.use(secretsRouter(context, guards));
  app.use(projectsRouter(context, guards, projectKeys));
  app.use(projectKeysRouter(context, guards, projectKeys));
  app.use(auditRouter(context, guards, logger));
  app.use(schedulesRouter(context, guards));
  app.use((_request, _response, next) => next(new HttpError(404, "no such route")));
  app.use(recordFailedAttempts(context, logger));
  app.use(errorHandler(logger));
  return app;
}
