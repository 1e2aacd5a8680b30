import { WaitingError, type Job } from "bullmq";
import { Semaphore } from "async-mutex";
import pLimit, { type LimitFunction } from "p-limit";
import { isSettled, type Delivery, type EventRecord, type RoutedDelivery } from "@hookbus/core/policy";
import { releaseRoutedInOrder, routeEvents } from "@hookbus/core/flows";
import { attemptLeaseMs, laneKeyOf, type SubscriptionCache } from "@hookbus/core/store";
import {
  enqueueFirstAttempts,
  ensureDeliverJob,
  ROUTE_JOB_DELIVERIES,
  routeJobEventIds,
  runsAgain,
  type RouteJobData,
} from "@hookbus/core/queue";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import { firstRunJob, type DeliveryAttempt } from "../delivery/attempt.js";

/**
 * The route job: for each event it carries (the events published together), finds the
 * subscriptions it reaches (through the event-type index, so the cost follows the
 * subscriptions to its type), makes one delivery each, and makes their first attempts itself,
 * in parallel: one queue hop per event, not two. Only a delivery that must run again (a
 * failure to retry, a wait for its endpoint) becomes a delayed deliver job. Sync
 * subscriptions' deliveries are the ingest's, which waits on them through the sync queue;
 * here they only get their job if they lack one. The events' reads and writes are shared:
 * one round trip to load them, one to make their deliveries, one to mark them routed.
 *
 * Running twice creates nothing twice (deliveries are keyed by (event, subscription), jobs by
 * delivery id); a crash mid-job runs it again (stall recovery, or the reconciler, since the
 * events stay unrouted until the end), re-attempting only deliveries with no attempt yet,
 * under the same webhook-id.
 */
export class RouteEventJob {
  /**
   * First attempts in flight, across all the route jobs this process runs: a job carries many
   * events, so its attempts, not its count, are what must be bounded (as the async
   * concurrency bounds deliver jobs), or a burst would open a connection per attempt.
   */
  private readonly attemptSlots: LimitFunction;
  /**
   * Events being routed, across the route jobs this process runs, counted before they are
   * loaded. A job may carry a hundred events and the worker runs many jobs at once: without
   * this, a backlog would be pulled into memory, its attempts queued here instead of in Redis,
   * where another worker could take them. Twice the attempt slots keeps them all busy while
   * a job waits on its slowest attempts.
   */
  private readonly eventSlots: Semaphore;
  private readonly eventCapacity: number;
  /** Route jobs this process is routing now. */
  private running = 0;
  private stopping = false;

  constructor(
    private readonly context: HookbusContext,
    private readonly attempts: DeliveryAttempt,
    private readonly subscriptions: SubscriptionCache,
    private readonly logger: Logger,
    private readonly intake: RouteIntake,
  ) {
    this.attemptSlots = pLimit(context.config.asyncConcurrency);
    this.eventCapacity = 2 * context.config.asyncConcurrency;
    this.eventSlots = new Semaphore(this.eventCapacity);
  }

  /**
   * For shutdown: the attempts in flight finish, and those not begun are left to deliver jobs,
   * which any worker takes, so that the route jobs running now end soon.
   */
  stopAttempting(): void {
    this.stopping = true;
  }

  /**
   * Routes the job's events once there is room for them here. A job whose events do not fit
   * now goes back to the queue, where any worker with room takes it, and this worker takes no
   * more route jobs until one of its own ends: jobs are taken only when they can start, so a
   * backlog waits in Redis, not locked in one process.
   */
  async process(job: Job<RouteJobData>, token?: string): Promise<void> {
    const eventIds = routeJobEventIds(job.data);
    const weight = Math.min(eventIds.length, this.eventCapacity);
    if (this.eventSlots.getValue() < weight) {
      this.intake.limitTo(Math.max(1, this.running));
      await job.moveToWait(token);
      throw new WaitingError();
    }
    this.running++;
    try {
      await this.eventSlots.runExclusive(() => this.routeAll(eventIds, runsAgain(job)), weight);
    } finally {
      this.running--;
      // As many more jobs as the room left fits jobs of this one's size (at least one): taking
      // as many as the concurrency allows while most of the room is still held would take jobs
      // only to put them back, a round trip each way.
      this.intake.limitTo(this.running + Math.max(1, Math.floor(this.eventSlots.getValue() / weight)));
    }
  }

  /** @param rerun the job runs again after a run that died or failed (see runsAgain) */
  private async routeAll(eventIds: string[], rerun: boolean): Promise<void> {
    // The version is read after the events were stored, so the subscriptions routed to include
    // every change made before the publish was answered, whatever the cache had heard of.
    // An event not found expired or was never stored (its publish failed): nothing to route.
    const [events, subscriptionsVersion] = await Promise.all([this.context.events.getMany(eventIds), this.context.subscriptions.version()]);
    // A sample is delivered only to the subscription it was sent to, by the ingest itself.
    const routable = [...events.values()].filter((event) => !event.sample);
    if (routable.length > 0) await this.route(routable, subscriptionsVersion, rerun);
    await this.context.events.markRouted(eventIds);
  }

  private async route(events: EventRecord[], subscriptionsVersion: number, rerun: boolean): Promise<void> {
    const targets = await Promise.all(
      events.map(async (event) => ({ event, candidates: await this.subscriptions.forEventType(event, subscriptionsVersion) })),
    );
    const byEvent = await routeEvents(this.context.deliveries, targets);
    // Their deliveries are in their lanes now: later events of their keys need not wait on them.
    await releaseRoutedInOrder(this.context, events);
    await this.restoreRetryJobs(byEvent.flat());
    if (rerun) await this.resumeLanes(byEvent.flat());
    const routed = byEvent.flatMap((deliveries, i) => deliveries.filter((r) => r.needsJob).map((r) => ({ event: events[i]!, routed: r })));
    const attemptHere = routed.filter(({ routed: r }) => r.subscription.mode === "async").slice(0, ROUTE_JOB_DELIVERIES);
    await this.leaveToDeliverJobs(
      events,
      routed.filter((r) => !attemptHere.includes(r)),
    );
    const notBegun: RoutedEventDelivery[] = [];
    await Promise.all(
      attemptHere.map(async (r) => {
        if (this.stopping) notBegun.push(r);
        else await this.firstAttempt(r.event, r.routed);
      }),
    );
    await this.leaveToDeliverJobs(events, notBegun);
    this.logger.debug(
      { events: events.length, deliveries: routed.length, attempted: attemptHere.length - notBegun.length },
      "events routed",
    );
  }

  /**
   * A run after a crash finds deliveries the first run attempted. One it left without the job
   * of its next attempt (it died between recording the attempt and adding the job) gets the
   * job back now, due when it was due, rather than at the reconciler's next look.
   */
  private async restoreRetryJobs(routed: RoutedDelivery[]): Promise<void> {
    const unfinished = routed.flatMap(({ needsJob, found }) =>
      !needsJob && (found?.status === "pending" || found?.status === "retrying") ? [found] : [],
    );
    await Promise.all(unfinished.map((delivery) => ensureDeliverJob(this.context.queues, delivery)));
  }

  /**
   * A run after a crash finds deliveries the first run finished. That run went on with their
   * lanes itself, with no job behind the deliveries it attempted there: this run takes over.
   */
  private async resumeLanes(routed: RoutedDelivery[]): Promise<void> {
    await Promise.all(
      routed.flatMap(({ found, subscription }) =>
        found && isSettled(found.status) ? [this.attempts.resumeLane(found, subscription)] : [],
      ),
    );
  }

  /** Enqueues the first attempts of these deliveries as deliver jobs, due now. */
  private async leaveToDeliverJobs(events: EventRecord[], deliveries: RoutedEventDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await Promise.all(
      events.map((event) =>
        enqueueFirstAttempts(
          this.context.queues,
          event.id,
          deliveries.filter((r) => r.event === event).map((r) => r.routed),
        ),
      ),
    );
  }

  /**
   * Attempts a new delivery; one that must run again becomes a delayed deliver job under its
   * own id. The gate claims the delivery first: one that another process is attempting gets a
   * job due when that attempt's lease ends (should that process have died, the job takes over;
   * if not, it finds the delivery finished or due later), and one attempted since it was routed
   * (stale) is its attempter's.
   */
  private async firstAttempt(event: EventRecord, routed: RoutedDelivery): Promise<void> {
    const delivery = newDelivery(event, routed);
    const end = await this.attempts.run(
      {
        delivery,
        subscription: routed.subscription,
        event,
        job: firstRunJob(delivery),
        data: {},
      },
      // A first attempt parked behind this process's own attempts to its endpoint waits here for
      // the slots they free while they keep ending, up to its lease, holding no attempt slot.
      {
        sendSlot: (attempt) => this.attemptSlots(() => (this.stopping ? undefined : attempt())),
        longestLocalWaitMs: attemptLeaseMs(routed.subscription),
      },
    );
    // One behind an earlier delivery of its lane needs no job: the one before it attempts it
    // when it finishes (or wakes its job, adding one), and should that never come (a worker
    // died in between), the reconciler finds it by the watch its lane moved, and runs it.
    if (end.kind === "again" && !end.waitedInLane) await this.attempts.runAgainAsJob(end, delivery);
  }
}

/** How many route jobs this process takes at once: the worker that feeds it jobs. */
export interface RouteIntake {
  /** Take no more jobs than this many at once (never more than the configured concurrency). */
  limitTo(jobs: number): void;
}

/** A delivery of one of the job's events, as routing made (or found) it. */
interface RoutedEventDelivery {
  event: EventRecord;
  routed: RoutedDelivery;
}

/** A delivery routing has just made (or found untouched): pending, nothing attempted. */
function newDelivery(event: EventRecord, routed: RoutedDelivery): Delivery {
  return {
    id: routed.deliveryId,
    projectId: event.projectId,
    eventId: event.id,
    subscriptionId: routed.subscription.id,
    eventType: event.type,
    status: "pending",
    createdAt: Date.now(),
    attemptCount: 0,
    replays: 0,
    runStartedAtAttempt: 0,
    orderingKey: laneKeyOf(event, routed.subscription),
  };
}
