import { Worker, type Job } from "bullmq";
import {
  createContext,
  createLogger,
  createMetricsRegistry,
  DELIVERY_BACKOFF,
  QUEUE_NAMES,
  type Config,
  type DeliverJobData,
  type ReplayJobData,
  type Logger,
  type RouteJobData,
} from "@hookbus/core";
import { DeliveryProcessor, RetryLaterError } from "./deliver.js";
import { WebhookHttpClient } from "./http-attempt.js";
import { WorkerMetrics } from "./metrics.js";
import { startOpsServer } from "./ops-server.js";
import { startQueueMetrics } from "./queue-metrics.js";
import { startMaintenance, type MaintenanceOptions } from "./maintenance.js";
import { RouteProcessor } from "./route.js";

export interface RunningWorker {
  metricsPort: number;
  /** Stops taking jobs, lets the attempts in flight finish and record, then disconnects. */
  close(): Promise<void>;
}

export interface WorkerOptions {
  logger?: Logger;
  /** Start the /metrics server (default true). */
  opsServer?: boolean;
  /** How often the queue and subscription gauges are refreshed from Redis (default 5000 ms). */
  queueMetricsIntervalMs?: number;
  /** Retention sweeping and replay recovery (defaults: every 60 s). */
  maintenance?: MaintenanceOptions;
}

/** A worker stalls a job when its process dies mid-attempt; it is retried this often before BullMQ gives up on it. */
const MAX_STALLED_COUNT = 20;

/** The retry policy's delay travels on the error the attempt threw. */
function scheduledBackoff(_attemptsMade: number, type: string | undefined, error: Error | undefined): number {
  if (type === DELIVERY_BACKOFF && error instanceof RetryLaterError) return error.delayMs;
  return 1000;
}

export async function startWorker(config: Config & { redisUrl: string }, options: WorkerOptions = {}): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger("hookbus-worker", config.logLevel);
  const context = createContext(config, logger);
  const registry = createMetricsRegistry("worker");
  const metrics = new WorkerMetrics(registry);
  const queueMetrics = startQueueMetrics(context, registry, logger, options.queueMetricsIntervalMs);
  const maintenance = startMaintenance(context, logger, options.maintenance);
  const http = new WebhookHttpClient(config.allowedNetworks);
  const deliveries = new DeliveryProcessor(context, http, metrics, logger);
  const routes = new RouteProcessor(context, logger);
  const common = { connection: context.redis, prefix: config.queuePrefix, maxStalledCount: MAX_STALLED_COUNT };
  const deliver = (job: Job<DeliverJobData>) => deliveries.process(job);
  const workers = [
    new Worker<RouteJobData>(QUEUE_NAMES.route, (job) => routes.process(job), { ...common, concurrency: 20 }),
    new Worker<DeliverJobData>(QUEUE_NAMES.deliver, deliver, {
      ...common,
      concurrency: config.asyncConcurrency,
      settings: { backoffStrategy: scheduledBackoff },
    }),
    new Worker<DeliverJobData>(QUEUE_NAMES.deliverSync, deliver, {
      ...common,
      concurrency: config.syncConcurrency,
      settings: { backoffStrategy: scheduledBackoff },
    }),
    new Worker<ReplayJobData>(QUEUE_NAMES.replay, (job) => context.replays.run(job.data.replayId), { ...common, concurrency: 2 }),
  ];
  for (const worker of workers) {
    worker.on("error", (error) => logger.error({ err: error, queue: worker.name }, "worker error"));
    worker.on("failed", (job, error) => {
      if (!(error instanceof RetryLaterError)) logger.error({ err: error, queue: worker.name, jobId: job?.id }, "job failed");
    });
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const ops = options.opsServer === false ? undefined : await startOpsServer(config.workerMetricsPort, config.host, registry, context.redis, config.metricsToken);
  logger.info({ metricsPort: ops?.port }, "worker started");
  return {
    metricsPort: ops?.port ?? 0,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      http.close();
      await new Promise((resolve) => (ops ? ops.close(resolve) : resolve(undefined)));
      await queueMetrics.stop();
      await maintenance.stop();
      await context.close();
      logger.info("worker stopped");
    },
  };
}
