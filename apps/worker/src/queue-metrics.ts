import type { Queue } from "bullmq";
import { Gauge, type Registry } from "prom-client";
import type { CircuitState } from "@hookbus/core/store";
import { circuitStates } from "@hookbus/schemas";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";

/** The BullMQ states reported per queue. */
const JOB_STATES = ["waiting", "active", "delayed", "failed"] as const;

/** Subscriptions read per round trip while counting them. */
const SUBSCRIPTION_PAGE = 500;

export const DEFAULT_QUEUE_METRICS_INTERVAL_MS = 5000;

export interface QueueMetrics {
  /** Reads the queues and the subscription store once and updates the gauges. */
  refresh(): Promise<void>;
  /** Stops refreshing; resolves once a refresh in flight has finished. */
  stop(): Promise<void>;
}

/**
 * Gauges of queue depth, backlog age and subscription counts, refreshed on a timer rather than
 * on each scrape: Prometheus (or several of them) scraping every worker must not turn into a
 * burst of Redis reads per scrape. Values are at most one interval old.
 */
export function startQueueMetrics(
  context: HookbusContext,
  registry: Registry,
  logger: Logger,
  intervalMs = DEFAULT_QUEUE_METRICS_INTERVAL_MS,
): QueueMetrics {
  const jobs = new Gauge({
    name: "hookbus_queue_jobs",
    help: "Jobs in each BullMQ queue by state (waiting, active, delayed, failed).",
    labelNames: ["queue", "state"],
    registers: [registry],
  });
  const oldestWaitingAge = new Gauge({
    name: "hookbus_queue_oldest_waiting_age_seconds",
    help: "Age of the oldest job waiting for a worker, from when it was enqueued; 0 when none waits.",
    labelNames: ["queue"],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: "hookbus_subscriptions",
    help: "Subscriptions by mode (async, sync) and environment (live, test).",
    labelNames: ["mode", "environment"],
    registers: [registry],
  });
  const circuits = new Gauge({
    name: "hookbus_endpoint_circuits",
    help: "Enabled subscriptions by the state of their endpoint's circuit breaker (closed, open, half-open).",
    labelNames: ["state"],
    registers: [registry],
  });
  // Each partition's route and deliver queues count under their one name.
  const queues: Queue[] = [
    ...context.queues.partitions.flatMap(({ route, deliver, deliverSync }) => [route, deliver, deliverSync]),
    context.queues.replay,
    context.queues.erasure,
    context.queues.schedule,
  ];

  const refresh = async (): Promise<void> => {
    const [perQueue, { byKind: subscriptionCounts, byCircuit }] = await Promise.all([
      Promise.all(
        queues.map(async (queue) => ({
          queue,
          counts: await queue.getJobCounts(...JOB_STATES),
          ageSeconds: await oldestWaitingAgeSeconds(queue),
        })),
      ),
      countSubscriptions(context),
    ]);
    const byName = new Map<string, { counts: Record<string, number>; ageSeconds: number }>();
    for (const { queue, counts, ageSeconds } of perQueue) {
      const named = byName.get(queue.name);
      if (!named) byName.set(queue.name, { counts: { ...counts }, ageSeconds });
      else {
        for (const state of JOB_STATES) named.counts[state] = (named.counts[state] ?? 0) + (counts[state] ?? 0);
        named.ageSeconds = Math.max(named.ageSeconds, ageSeconds);
      }
    }
    // Every value is set in one synchronous pass, so a scrape never sees half a refresh.
    for (const [name, { counts, ageSeconds }] of byName) {
      for (const state of JOB_STATES) jobs.set({ queue: name, state }, counts[state] ?? 0);
      oldestWaitingAge.set({ queue: name }, ageSeconds);
    }
    // Reset first so a combination whose last subscription was deleted disappears instead of going stale.
    subscriptions.reset();
    for (const { labels, count } of subscriptionCounts.values()) subscriptions.set(labels, count);
    for (const state of circuitStates) circuits.set({ state }, byCircuit[state]);
  };

  let inFlight: Promise<void> | undefined;
  const tick = () => {
    if (inFlight) return; // a slow Redis must not pile refreshes up
    inFlight = refresh()
      .catch((error: unknown) => logger.warn({ err: error }, "queue metrics refresh failed; gauges keep their last values"))
      .finally(() => (inFlight = undefined));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    refresh,
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/**
 * BullMQ pushes waiting jobs at the head of a list, so the oldest is at the tail (ascending
 * order, first item). Its `timestamp` is when it was first enqueued: a delivery retried after
 * a long backoff counts from its first enqueue, which only shows while the queue is backed up,
 * since idle workers take a promoted job within milliseconds.
 */
async function oldestWaitingAgeSeconds(queue: Queue): Promise<number> {
  const [oldest] = await queue.getJobs(["waiting"], 0, 0, true);
  return oldest ? Math.max(0, Date.now() - oldest.timestamp) / 1000 : 0;
}

interface SubscriptionCount {
  labels: { mode: string; environment: string };
  count: number;
}

/** Subscription counts per (mode, environment), and enabled ones per circuit state, paging through the store. */
async function countSubscriptions(
  context: HookbusContext,
): Promise<{ byKind: Map<string, SubscriptionCount>; byCircuit: Record<CircuitState, number> }> {
  const byKind = new Map<string, SubscriptionCount>();
  const byCircuit: Record<CircuitState, number> = { closed: 0, open: 0, "half-open": 0 };
  let cursor: string | undefined;
  do {
    const page = await context.subscriptions.list(SUBSCRIPTION_PAGE, cursor);
    for (const { mode, environment } of page.items) {
      const key = `${mode}/${environment}`;
      let entry = byKind.get(key);
      if (!entry) byKind.set(key, (entry = { labels: { mode, environment }, count: 0 }));
      entry.count += 1;
    }
    const health = await context.endpoints.healthOfMany(page.items.filter((s) => s.enabled).map((s) => s.id));
    for (const { circuit } of health.values()) byCircuit[circuit] += 1;
    cursor = page.nextCursor;
  } while (cursor);
  return { byKind, byCircuit };
}
