import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";

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

/** The queue a subscription's deliveries go to. */
export function deliveryQueue(queues: HookbusQueues, mode: "async" | "sync"): Queue<DeliverJobData> {
  return mode === "sync" ? queues.deliverSync : queues.deliver;
}
