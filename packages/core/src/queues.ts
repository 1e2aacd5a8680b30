import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import type { RoutedDelivery } from "./delivery-log.js";

/** BullMQ queue names; their keys sit under HOOKBUS_QUEUE_PREFIX. */
export const QUEUE_NAMES = {
  /** event -> matching subscriptions -> delivery jobs */
  route: "route",
  /** one HTTP attempt per job run, async subscriptions */
  deliver: "deliver",
  /** the same for sync subscriptions: a queue of their own so they never wait behind async work */
  deliverSync: "deliver-sync",
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface RouteJobData {
  eventId: string;
}

export interface DeliverJobData {
  deliveryId: string;
  /** Carried so that an attempt loads delivery, event and subscription in one round trip. */
  eventId: string;
  subscriptionId: string;
  /** Publish the outcome of this job's first attempt for a waiting publisher or admin. */
  reportOutcome?: boolean;
}

/** The name of the custom backoff the deliver workers implement (see apps/worker). */
export const DELIVERY_BACKOFF = "hookbus-schedule";

/**
 * BullMQ's own attempt limit is set out of reach: the retry policy, not BullMQ, decides when a
 * delivery is dead-lettered, from the subscription's schedule at the time of each failure.
 */
const UNBOUNDED_ATTEMPTS = 1_000_000;

export const ROUTE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const DELIVER_JOB_OPTIONS: JobsOptions = {
  attempts: UNBOUNDED_ATTEMPTS,
  backoff: { type: DELIVERY_BACKOFF },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};

export interface HookbusQueues {
  route: Queue<RouteJobData>;
  deliver: Queue<DeliverJobData>;
  deliverSync: Queue<DeliverJobData>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string, onError: (error: Error) => void): HookbusQueues {
  const route = new Queue<RouteJobData>(QUEUE_NAMES.route, { connection, prefix });
  const deliver = new Queue<DeliverJobData>(QUEUE_NAMES.deliver, { connection, prefix });
  const deliverSync = new Queue<DeliverJobData>(QUEUE_NAMES.deliverSync, { connection, prefix });
  const all = [route, deliver, deliverSync];
  for (const queue of all) queue.on("error", onError);
  return {
    route,
    deliver,
    deliverSync,
    close: async () => {
      // A queue still connecting when closed reports the closed connection as an error.
      await Promise.all(all.map((queue) => queue.waitUntilReady().catch(() => undefined)));
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}

/** Enqueues routing of an event; the job id is the event id, so a second add is a no-op while it exists. */
export async function enqueueRoute(queues: HookbusQueues, eventId: string): Promise<void> {
  await queues.route.add("route", { eventId }, { ...ROUTE_JOB_OPTIONS, jobId: eventId });
}

/**
 * Enqueues the first attempt of each routed delivery that still needs one, on its mode's
 * queue. The job id is the delivery id, so a delivery enqueued twice runs once. Sync
 * deliveries report their first attempt's outcome to the publisher waiting on it.
 */
export async function enqueueFirstAttempts(queues: HookbusQueues, eventId: string, routed: RoutedDelivery[]): Promise<void> {
  for (const mode of ["async", "sync"] as const) {
    const jobs = routed
      .filter((r) => r.needsJob && r.subscription.mode === mode)
      .map((r) => ({
        name: "deliver",
        data: { deliveryId: r.deliveryId, eventId, subscriptionId: r.subscription.id, reportOutcome: mode === "sync" },
        opts: { ...DELIVER_JOB_OPTIONS, jobId: r.deliveryId },
      }));
    if (jobs.length > 0) await (mode === "sync" ? queues.deliverSync : queues.deliver).addBulk(jobs);
  }
}
