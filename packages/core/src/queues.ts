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
  /** bulk replays: each job walks the deliveries of one replay request */
  replay: "replay",
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface RouteJobData {
  eventId: string;
}

export interface ReplayJobData {
  replayId: string;
}

export interface DeliverJobData {
  deliveryId: string;
  /** Carried so that an attempt loads delivery, event and subscription in one round trip. */
  eventId: string;
  subscriptionId: string;
  /** Publish the outcome of this job's first attempt for a waiting publisher or admin. */
  reportOutcome?: boolean;
  /** The bulk replay this job belongs to: its final outcome is counted there. */
  replayId?: string;
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
  replay: Queue<ReplayJobData>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string, onError: (error: Error) => void): HookbusQueues {
  const route = new Queue<RouteJobData>(QUEUE_NAMES.route, { connection, prefix });
  const deliver = new Queue<DeliverJobData>(QUEUE_NAMES.deliver, { connection, prefix });
  const deliverSync = new Queue<DeliverJobData>(QUEUE_NAMES.deliverSync, { connection, prefix });
  const replay = new Queue<ReplayJobData>(QUEUE_NAMES.replay, { connection, prefix });
  const all = [route, deliver, deliverSync, replay];
  for (const queue of all) queue.on("error", onError);
  return {
    route,
    deliver,
    deliverSync,
    replay,
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
 * deliveries (and, with reportAll, every one: a sample sent by an admin) go on the sync
 * queue and report their first attempt's outcome to the request waiting on it.
 */
export async function enqueueFirstAttempts(
  queues: HookbusQueues,
  eventId: string,
  routed: RoutedDelivery[],
  options: { reportAll?: boolean } = {},
): Promise<void> {
  const waitedFor = (r: RoutedDelivery) => options.reportAll === true || r.subscription.mode === "sync";
  for (const reported of [false, true]) {
    const jobs = routed
      .filter((r) => r.needsJob && waitedFor(r) === reported)
      .map((r) => ({
        name: "deliver",
        data: { deliveryId: r.deliveryId, eventId, subscriptionId: r.subscription.id, reportOutcome: reported },
        opts: { ...DELIVER_JOB_OPTIONS, jobId: r.deliveryId },
      }));
    if (jobs.length > 0) await (reported ? queues.deliverSync : queues.deliver).addBulk(jobs);
  }
}
