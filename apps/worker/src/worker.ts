import { Worker, type Job } from "bullmq";
import { StoreCoalescer } from "@hookbus/core/flows";
import { SubscriptionCache } from "@hookbus/core/store";
import {
  QUEUE_NAMES,
  type DeliverJobData,
  type ErasureJobData,
  type ReplayJobData,
  type RouteJobData,
  type ScheduleJobData,
} from "@hookbus/core/queue";
import {
  checkEncryptionKeys,
  checkPartitions,
  createContext,
  createLogger,
  createMetricsRegistry,
  type Config,
  type Logger,
  type RunConfig,
} from "@hookbus/core/runtime";
import { DeliveryAttempt } from "./delivery/attempt.js";
import { WebhookHttpClient } from "./delivery/http-client.js";
import { runBulkReplay } from "./jobs/bulk-replay.js";
import { runScheduleWakeUp } from "./jobs/fire-schedule.js";
import { DeliverJob } from "./jobs/deliver.js";
import { RouteEventJob } from "./jobs/route-event.js";
import { WorkerMetrics } from "./metrics.js";
import { ScheduleMetrics } from "./schedule-metrics.js";
import { startOpsServer } from "./ops-server.js";
import { startQueueMetrics } from "./queue-metrics.js";
import { startMaintenance, type MaintenanceOptions } from "./maintenance.js";

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

/** The jobs this process is running, so that closing can wait for them itself. */
class RunningJobs {
  private readonly jobs = new Set<Promise<unknown>>();

  /** Wraps a processor so that each run is counted until it settles. */
  track<A extends unknown[], R>(processor: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return (...args) => {
      const run = processor(...args);
      const settled = run.catch(() => undefined);
      this.jobs.add(settled);
      void settled.finally(() => this.jobs.delete(settled));
      return run;
    };
  }

  async finished(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs]);
  }
}

/** A worker stalls a job when its process dies mid-attempt; it is retried this often before BullMQ gives up on it. */
const MAX_STALLED_COUNT = 20;

/** Schedule wake-ups one worker runs at once. */
const SCHEDULE_CONCURRENCY = 200;

export async function startWorker(config: RunConfig, options: WorkerOptions = {}): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger("hookbus-worker", config.logLevel);
  const context = createContext(config, logger);
  // A count this Redis cannot be run with stops the start, with nothing left open.
  await checkPartitions(context.redis, context.keys).catch(async (error: unknown) => {
    await context.close();
    throw error;
  });
  await checkEncryptionKeys(context.subscriptions, config.encryption, logger);
  const registry = createMetricsRegistry("worker");
  const metrics = new WorkerMetrics(registry);
  const scheduleMetrics = new ScheduleMetrics(registry);
  const queueMetrics = startQueueMetrics(context, registry, logger, options.queueMetricsIntervalMs);
  const maintenance = startMaintenance(context, logger, options.maintenance);
  const http = new WebhookHttpClient(config.allowedNetworks);
  const attempts = new DeliveryAttempt(context, http, metrics, logger);
  const deliveries = new DeliverJob(context, attempts);
  // Kept exact by the version each route job reads, so it needs no change announcements.
  const subscriptionCache = new SubscriptionCache(context.subscriptions);
  const fireContext = { ...context, store: new StoreCoalescer(context, subscriptionCache) };
  // Each partition has its queues, and a worker of each here: the concurrency is shared out
  // among them (the route jobs' attempts and events are bounded process-wide besides).
  const perPartition = (concurrency: number) => Math.max(1, Math.ceil(concurrency / config.partitions));
  const routeWorkers: Worker<RouteJobData>[] = [];
  const routes = new RouteEventJob(context, attempts, subscriptionCache, logger, {
    limitTo: (jobs) => {
      for (const worker of routeWorkers) worker.concurrency = perPartition(Math.min(jobs, config.asyncConcurrency));
    },
  });
  // A job whose worker died (kill -9, lost host) is found stalled once its lock lapses, and run
  // again: a stalled job is moved on at the second check that finds it unlocked, so checking at
  // half the lock takes it over within one and a half locks of the death. What the dead worker
  // was sending waits for its attempt's lease besides (its claim), so nothing is sent twice.
  const common = {
    connection: context.redis,
    prefix: config.queuePrefix,
    maxStalledCount: MAX_STALLED_COUNT,
    lockDuration: config.jobLockMs,
    stalledInterval: Math.max(1, Math.round(config.jobLockMs / 2)),
  };
  const running = new RunningJobs();
  const deliver = running.track((job: Job<DeliverJobData>, token?: string) => deliveries.process(job, token));
  const route = running.track((job: Job<RouteJobData>, token?: string) => routes.process(job, token));
  const partitionWorkers = context.keys.partitionPrefixes.flatMap((prefix) => {
    const inPartition = { ...common, prefix };
    // Route jobs make first attempts themselves, so they wait on receivers as deliver jobs do.
    const routeWorker = new Worker<RouteJobData>(QUEUE_NAMES.route, route, {
      ...inPartition,
      concurrency: perPartition(config.asyncConcurrency),
    });
    routeWorkers.push(routeWorker);
    return [
      routeWorker,
      new Worker<DeliverJobData>(QUEUE_NAMES.deliver, deliver, { ...inPartition, concurrency: perPartition(config.asyncConcurrency) }),
      new Worker<DeliverJobData>(QUEUE_NAMES.deliverSync, deliver, { ...inPartition, concurrency: perPartition(config.syncConcurrency) }),
    ];
  });
  const workers = [
    ...partitionWorkers,
    new Worker<ReplayJobData>(
      QUEUE_NAMES.replay,
      running.track((job: Job<ReplayJobData>) => runBulkReplay(context, job.data.replayId)),
      { ...common, concurrency: 2 },
    ),
    new Worker<ErasureJobData>(
      QUEUE_NAMES.erasure,
      running.track(async (job: Job<ErasureJobData>) => void (await context.erasures.run(job.data.erasureId))),
      { ...common, concurrency: 1 },
    ),
    // A wake-up is a few Redis round trips and no receiver: many run at once.
    new Worker<ScheduleJobData>(
      QUEUE_NAMES.schedule,
      running.track((job: Job<ScheduleJobData>) => runScheduleWakeUp(fireContext, scheduleMetrics, logger, job)),
      { ...common, concurrency: SCHEDULE_CONCURRENCY },
    ),
  ];
  for (const worker of workers) {
    worker.on("error", (error) => context.outages.error(error, `worker ${worker.name}`));
    // Failed jobs are removed at once (see queues.ts): this line is what is left of them.
    worker.on("failed", (job, error) => logger.error({ err: error, queue: worker.name, jobId: job?.id }, "job failed"));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const ops =
    options.opsServer === false
      ? undefined
      : await startOpsServer(config.workerMetricsPort, config.host, registry, context.redis, config.metricsToken);
  logger.info({ metricsPort: ops?.port }, "worker started");
  return {
    metricsPort: ops?.port ?? 0,
    close: async () => {
      // Take no new job, let the attempts in flight finish and record (a route job's attempts
      // not yet begun become deliver jobs), then drop the connections
      // without waiting on a blocking read: after a Redis restart, BullMQ's own close could
      // wait on one for good.
      await Promise.all(workers.map((w) => w.pause(true)));
      routes.stopAttempting();
      await running.finished();
      await Promise.all(workers.map((w) => w.close(true)));
      http.close();
      subscriptionCache.close();
      await new Promise((resolve) => (ops ? ops.close(resolve) : resolve(undefined)));
      await queueMetrics.stop();
      await maintenance.stop();
      await context.close();
      logger.info("worker stopped");
    },
  };
}
