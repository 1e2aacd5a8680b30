import { Job, Queue, type ConnectionOptions, type JobsOptions, type JobState } from "bullmq";
import type { ChainableCommander } from "ioredis";
import type { Delivery, RoutedDelivery } from "../policy/domain.js";
import { partitionOfId } from "../policy/ids.js";
import { eachPartition } from "../store/partitioned.js";

/** BullMQ queue names; their keys sit under HOOKBUS_QUEUE_PREFIX, the route and deliver queues under each partition's prefix. */
export const QUEUE_NAMES = {
  /** event -> matching subscriptions -> delivery jobs */
  route: "route",
  /** one HTTP attempt per job run, async subscriptions */
  deliver: "deliver",
  /** the same for sync subscriptions: a queue of their own so they never wait behind async work */
  deliverSync: "deliver-sync",
  /** bulk replays: each job walks the deliveries of one replay request */
  replay: "replay",
  /** erasures too large to answer at once: each job erases one participant's data */
  erasure: "erasure",
  /** schedule timers: each job a wake-up of one schedule, which fires what is due (see flows/fire-schedule) */
  schedule: "schedule",
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/**
 * The deliveries a route job is sized for: the ingest groups events into jobs of about this
 * many, and the worker makes up to this many first attempts in one job itself, leaving the
 * rest of a larger fan-out to deliver jobs, so that any worker can take a share of it.
 */
export const ROUTE_JOB_DELIVERIES = 100;

/**
 * A route job routes the events published together (in one request, or in one turn of the
 * ingest's event loop). It is named after its first event; the others record that name, so
 * the reconciler can tell whether their job still lives.
 */
export interface RouteJobData {
  eventIds: string[];
}

/** The events a route job carries; a job enqueued before route jobs carried groups names one. */
export function routeJobEventIds(data: RouteJobData | { eventId: string }): string[] {
  return "eventIds" in data ? data.eventIds : [data.eventId];
}

export interface ReplayJobData {
  replayId: string;
}

/** Only the erasure's id: the value to erase is sealed in its record, never in a job. */
export interface ErasureJobData {
  erasureId: string;
}

/** A schedule's wake-up: its timer's, or one a resume adds to catch up at once. */
export interface ScheduleJobData {
  scheduleId: string;
}

export interface DeliverJobData {
  deliveryId: string;
  /** Carried so that an attempt loads delivery, event and subscription in one round trip. */
  eventId: string;
  subscriptionId: string;
  /** The listener (an ingest process) to report this job's first attempt to: a publisher or admin waits on it. */
  reportTo?: string;
  /** The bulk replay this job belongs to: its final outcome is counted there. */
  replayId?: string;
  /** That replay's cap, sends per second, enforced when the attempt is made. */
  replayRatePerSecond?: number;
}

/**
 * A failed job is removed at once (its error is logged): the delivery log and the index of
 * events to route, not BullMQ's failed set, are what the reconciler reads to put a job back,
 * and a failed job left behind would keep its id taken, so re-adding it would do nothing.
 */
export const ROUTE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: true,
};

/**
 * The retry schedule is not BullMQ's: a failed attempt moves its job to the delayed set itself,
 * counted in the delivery log. BullMQ's own attempts only cover an unexpected error (Redis
 * unreachable while recording, say), retried quickly; past those the reconciler takes over.
 */
export const DELIVER_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};

/** Job states in which a job will still run. */
const LIVE_JOB_STATES: ReadonlySet<JobState | "unknown"> = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

/** One partition's queues: the route and deliver jobs of its events, beside their records. */
export interface PartitionQueues {
  route: Queue<RouteJobData>;
  deliver: Queue<DeliverJobData>;
  deliverSync: Queue<DeliverJobData>;
}

export interface HookbusQueues {
  /** Each partition's queues, by number. */
  partitions: PartitionQueues[];
  /** The queues of the partition an event's or delivery's id (or a job id made of it) names. */
  of(id: string): PartitionQueues;
  replay: Queue<ReplayJobData>;
  erasure: Queue<ErasureJobData>;
  schedule: Queue<ScheduleJobData>;
  close(): Promise<void>;
}

/** @param prefixes each partition's key prefix (Keys.partitionPrefixes); the queues of no partition are under the first */
export function createQueues(connection: ConnectionOptions, prefixes: string[], onError: (error: Error) => void): HookbusQueues {
  const partitions = prefixes.map((prefix) => ({
    route: new Queue<RouteJobData>(QUEUE_NAMES.route, { connection, prefix }),
    deliver: new Queue<DeliverJobData>(QUEUE_NAMES.deliver, { connection, prefix }),
    deliverSync: new Queue<DeliverJobData>(QUEUE_NAMES.deliverSync, { connection, prefix }),
  }));
  const prefix = prefixes[0]!;
  const replay = new Queue<ReplayJobData>(QUEUE_NAMES.replay, { connection, prefix });
  const erasure = new Queue<ErasureJobData>(QUEUE_NAMES.erasure, { connection, prefix });
  const schedule = new Queue<ScheduleJobData>(QUEUE_NAMES.schedule, { connection, prefix });
  const all = [...partitions.flatMap((p) => [p.route, p.deliver, p.deliverSync]), replay, erasure, schedule];
  for (const queue of all) queue.on("error", onError);
  return {
    partitions,
    of: (id) => partitions[partitionOfId(id)] ?? partitions[0]!,
    replay,
    erasure,
    schedule,
    close: async () => {
      // A queue still connecting when closed reports the closed connection as an error.
      await Promise.all(all.map((queue) => queue.waitUntilReady().catch(() => undefined)));
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}

/** Enqueues the walk of a bulk replay over its deliveries; the job id is the replay's, so it is walked once. */
export async function enqueueReplayWalk(queues: HookbusQueues, replayId: string): Promise<void> {
  await queues.replay.add("replay", { replayId }, { ...WALK_JOB_OPTIONS, jobId: replayId });
}

/** Enqueues an erasure's run; the job id is the erasure's, so it runs once. */
export async function enqueueErasure(queues: HookbusQueues, erasureId: string): Promise<void> {
  await queues.erasure.add("erasure", { erasureId }, { ...WALK_JOB_OPTIONS, jobId: erasureId });
}

/** A job that walks many records (a bulk replay, an erasure): it resumes where it got to when run again. */
const WALK_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Enqueues the runs of deliveries a replay claimed, each under the job id of its replay's number. */
export async function enqueueReplayRuns(
  queues: HookbusQueues,
  claimed: { delivery: Pick<Delivery, "id" | "eventId" | "subscriptionId">; replayNumber: number }[],
  replay?: ReplayRef,
): Promise<void> {
  const byId = new Map(claimed.map((claim) => [claim.delivery.id, claim]));
  await eachPartition([...byId.keys()], (ids) =>
    queues.of(ids[0]!).deliver.addBulk(
      ids
        .map((id) => byId.get(id)!)
        .map(({ delivery, replayNumber }) => ({
          name: "deliver",
          data: deliverJobData(delivery, replay),
          opts: { ...DELIVER_JOB_OPTIONS, jobId: deliverJobId({ id: delivery.id, replays: replayNumber }) },
        })),
    ),
  );
}

/**
 * A new delivery's next attempt, due at `at`, as a deliver job under the delivery's id (what
 * its first attempt left). A job of that id may be there already, delayed (one that waited in
 * the delivery's lane before its turn came and it was attempted without it): it is made due at
 * `at` when it would run later, so that the retry does not wait out the lane's long wait.
 */
export async function enqueueNextAttempt(
  queues: HookbusQueues,
  delivery: Pick<Delivery, "id" | "eventId" | "subscriptionId">,
  at: number,
): Promise<void> {
  const { deliver } = queues.of(delivery.id);
  const delay = Math.max(0, at - Date.now());
  const existing = await deliver.getJob(delivery.id);
  if (!existing) {
    await deliver.add("deliver", deliverJobData(delivery), { ...DELIVER_JOB_OPTIONS, jobId: delivery.id, delay });
    return;
  }
  if (existing.timestamp + existing.delay > at && (await existing.isDelayed())) await existing.changeDelay(delay).catch(() => undefined);
}

/** Runs a delayed job of either deliver queue now; false when it is not delayed (gone, or already running). */
export async function promoteDeliverJob(queues: HookbusQueues, queueName: string, jobId: string): Promise<boolean> {
  const own = queues.of(jobId);
  const job = await (queueName === QUEUE_NAMES.deliverSync ? own.deliverSync : own.deliver).getJob(jobId);
  if (!job || !(await job.isDelayed())) return false;
  await job.promote().catch(() => undefined);
  return true;
}

/**
 * True for a run of a job after an earlier run of it did not finish: its worker died (the job
 * was found stalled) or the run failed. Work that run began beside the job may be left half done.
 */
export function runsAgain(job: Pick<Job, "stalledCounter" | "attemptsMade">): boolean {
  return job.stalledCounter > 0 || job.attemptsMade > 0;
}

/**
 * Runs a delivery's first-run job now, whatever became of it: a delayed one is promoted, a
 * missing one added; one waiting or running is left (it looks at its delivery when it runs).
 * True when it promoted or added one.
 */
export async function wakeDeliverJob(
  queues: HookbusQueues,
  delivery: Pick<Delivery, "id" | "eventId" | "subscriptionId">,
): Promise<boolean> {
  const own = queues.of(delivery.id);
  for (const queue of [own.deliver, own.deliverSync]) {
    const job = await queue.getJob(delivery.id);
    if (!job) continue;
    if (!(await job.isDelayed())) return false;
    await job.promote().catch(() => undefined);
    return true;
  }
  await own.deliver.add("deliver", deliverJobData(delivery), { ...DELIVER_JOB_OPTIONS, jobId: delivery.id });
  return true;
}

/** Enqueues routing of an event; the job id is the event id, so a second add is a no-op while it exists. */
export async function enqueueRoute(queues: HookbusQueues, eventId: string): Promise<void> {
  await enqueueRoutes(queues, [eventId]);
}

/** Enqueues routing of several events, a job each, in one round trip for each partition they are in. */
export async function enqueueRoutes(queues: HookbusQueues, eventIds: string[]): Promise<void> {
  await eachPartition(eventIds, (ids) =>
    queues
      .of(ids[0]!)
      .route.addBulk(
        ids.map((eventId) => ({ name: "route", data: { eventIds: [eventId] }, opts: { ...ROUTE_JOB_OPTIONS, jobId: eventId } })),
      ),
  );
}

/**
 * A pipeline that jobs of one partition can be added to (queueRouteJobs, queueFirstAttempts)
 * beside other commands of that partition. BullMQ's client makes it, equipped to run BullMQ's
 * scripts; underneath it is an ioredis pipeline on the connection the stores share.
 */
export async function pipelineForJobs(queues: HookbusQueues, partition: number): Promise<ChainableCommander> {
  return (await queues.partitions[partition]!.route.client).pipeline() as unknown as ChainableCommander;
}

/** Queues a job's add on a pipeline from pipelineForJobs. */
function addToPipeline<T>(
  pipeline: ChainableCommander,
  queue: Queue<T>,
  name: string,
  data: T,
  opts: JobsOptions & { jobId: string },
): void {
  const job = new Job<T>(queue, name, data, opts, opts.jobId);
  // The command is queued at once; a failure shows in the pipeline's replies, which the caller reads.
  job.addJob(pipeline as never).catch(() => undefined);
}

/**
 * Adds route jobs to a pipeline from pipelineForJobs, to share its round trip with other
 * commands: one job for each group of event ids, named after its first event.
 */
export function queueRouteJobs(pipeline: ChainableCommander, queues: HookbusQueues, groups: string[][]): void {
  for (const eventIds of groups)
    addToPipeline(pipeline, queues.of(eventIds[0]!).route, "route", { eventIds }, { ...ROUTE_JOB_OPTIONS, jobId: eventIds[0]! });
}

/**
 * The id of a delivery's current job: the delivery id for its first run, then one per replay
 * (BullMQ job ids may not contain ':'), so that a replay never collides with the job of the
 * run before it, which may not have finished leaving the queue.
 */
export function deliverJobId(delivery: Pick<Delivery, "id" | "replays">): string {
  return delivery.replays > 0 ? `${delivery.id}-r${delivery.replays}` : delivery.id;
}

/** A bulk replay as its deliveries' jobs carry it. */
export interface ReplayRef {
  id: string;
  ratePerSecond?: number;
}

/** The bulk replay a delivery's current run belongs to, with its cap: a job put back for it stays part of it. */
export function replayRefOf(delivery: Pick<Delivery, "replayId" | "replayRatePerSecond">): ReplayRef | undefined {
  return delivery.replayId ? { id: delivery.replayId, ratePerSecond: delivery.replayRatePerSecond } : undefined;
}

export function deliverJobData(delivery: Pick<Delivery, "id" | "eventId" | "subscriptionId">, replay?: ReplayRef): DeliverJobData {
  return {
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    subscriptionId: delivery.subscriptionId,
    replayId: replay?.id,
    replayRatePerSecond: replay?.ratePerSecond,
  };
}

export interface FirstAttemptOptions {
  /** Report every first attempt, not only sync subscriptions' (a sample sent by an admin). */
  reportAll?: boolean;
  /** The listener of the request waiting on the reports, if any. */
  reportTo?: string;
}

/**
 * The first-attempt job of each routed delivery that still needs one, on its mode's queue.
 * The job id is the delivery id, so a delivery enqueued twice runs once. Sync deliveries (and,
 * with reportAll, every one) go on the sync queue and report their first attempt's outcome
 * to `reportTo`.
 */
function firstAttemptJobs(queues: HookbusQueues, eventId: string, routed: RoutedDelivery[], options: FirstAttemptOptions) {
  // In the event's partition, with its deliveries.
  const own = queues.of(eventId);
  return routed
    .filter((r) => r.needsJob)
    .map((r) => {
      const reported = options.reportAll === true || r.subscription.mode === "sync";
      return {
        queue: reported ? own.deliverSync : own.deliver,
        data: { deliveryId: r.deliveryId, eventId, subscriptionId: r.subscription.id, reportTo: reported ? options.reportTo : undefined },
        opts: { ...DELIVER_JOB_OPTIONS, jobId: r.deliveryId },
      };
    });
}

/** Enqueues the first attempts of routed deliveries that still need one (see firstAttemptJobs). */
export async function enqueueFirstAttempts(
  queues: HookbusQueues,
  eventId: string,
  routed: RoutedDelivery[],
  options: FirstAttemptOptions = {},
): Promise<void> {
  const jobs = firstAttemptJobs(queues, eventId, routed, options);
  const own = queues.of(eventId);
  await Promise.all(
    [own.deliver, own.deliverSync].map(async (queue) => {
      const own = jobs.filter((job) => job.queue === queue).map(({ data, opts }) => ({ name: "deliver", data, opts }));
      if (own.length > 0) await queue.addBulk(own);
    }),
  );
}

/** The same, added to a pipeline from pipelineForJobs, to share its round trip with other commands. */
export function queueFirstAttempts(
  pipeline: ChainableCommander,
  queues: HookbusQueues,
  eventId: string,
  routed: RoutedDelivery[],
  options: FirstAttemptOptions = {},
): void {
  for (const { queue, data, opts } of firstAttemptJobs(queues, eventId, routed, options))
    addToPipeline(pipeline, queue, "deliver", data, opts);
}

/**
 * Makes sure a pending or retrying delivery has a job that will run: one waiting, active or
 * delayed on either deliver queue is left alone; otherwise (never enqueued, deleted by hand,
 * failed past its own retries) a job is added, due at the delivery's next attempt time.
 * Returns true when it had to add one.
 */
export async function ensureDeliverJob(queues: HookbusQueues, delivery: Delivery, now = Date.now()): Promise<boolean> {
  const jobId = deliverJobId(delivery);
  const own = queues.of(delivery.id);
  for (const queue of [own.deliver, own.deliverSync]) {
    const state = await queue.getJobState(jobId);
    if (LIVE_JOB_STATES.has(state)) return false;
    if (state !== "unknown") await queue.remove(jobId);
  }
  const delay = Math.max(0, (delivery.nextAttemptAt ?? now) - now);
  await own.deliver.add("deliver", deliverJobData(delivery, replayRefOf(delivery)), { ...DELIVER_JOB_OPTIONS, jobId, delay });
  return true;
}

/**
 * True while a stored event has a route job that will run: the job it was published with
 * (named after the first event of its group, `routeJobId`) or one of its own.
 */
export async function routeJobAlive(queues: HookbusQueues, eventId: string, routeJobId = eventId): Promise<boolean> {
  // A route job carries events of its own partition only.
  const { route } = queues.of(eventId);
  if (routeJobId !== eventId && LIVE_JOB_STATES.has(await route.getJobState(routeJobId))) return true;
  return LIVE_JOB_STATES.has(await route.getJobState(eventId));
}

/** Makes sure a stored event has a route job that will run (see routeJobAlive). True when it had to add one. */
export async function ensureRouteJob(queues: HookbusQueues, eventId: string, routeJobId = eventId): Promise<boolean> {
  if (await routeJobAlive(queues, eventId, routeJobId)) return false;
  await queues.of(eventId).route.remove(eventId);
  await enqueueRoute(queues, eventId);
  return true;
}
