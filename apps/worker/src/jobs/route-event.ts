import type { Job } from "bullmq";
import pLimit from "p-limit";
import { NotFoundError, type Delivery, type EventRecord, type RoutedDelivery } from "@hookbus/core/policy";
import { routeEvent, type SubscriptionCache } from "@hookbus/core/store";
import { DELIVER_JOB_OPTIONS, deliverJobData, enqueueFirstAttempts, QUEUE_NAMES, type RouteJobData } from "@hookbus/core/queue";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import type { DeliveryAttempt } from "../delivery/attempt.js";

/**
 * How many first attempts a route job makes itself, and how many at once. A larger fan-out
 * leaves the rest to deliver jobs, so that any worker can take a share of it.
 */
export const FIRST_ATTEMPTS_PER_ROUTE_JOB = 100;
const PARALLEL_FIRST_ATTEMPTS = 50;

/**
 * The route job: finds the subscriptions an event reaches (through the event-type index, so
 * the cost follows the subscriptions to its type), makes one delivery each, and makes their
 * first attempts itself, in parallel: one queue hop per event, not two. Only a delivery that
 * must run again (a failure to retry, a wait for its endpoint) becomes a delayed deliver job.
 * Sync subscriptions' deliveries are the ingest's, which waits on them through the sync queue;
 * here they only get their job if they lack one.
 *
 * Running twice creates nothing twice (deliveries are keyed by (event, subscription), jobs by
 * delivery id); a crash mid-job runs it again (stall recovery, or the reconciler, since the
 * event stays unrouted until the end), re-attempting only deliveries with no attempt yet,
 * under the same webhook-id.
 */
export class RouteEventJob {
  constructor(
    private readonly context: HookbusContext,
    private readonly attempts: DeliveryAttempt,
    private readonly subscriptions: SubscriptionCache,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<RouteJobData>): Promise<void> {
    // The version is read after the event was stored, so the subscriptions routed to include
    // every change made before the publish was answered, whatever the cache had heard of.
    const [event, subscriptionsVersion] = await Promise.all([
      this.context.events.get(job.data.eventId).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }),
      this.context.subscriptions.version(),
    ]);
    // A sample is delivered only to the subscription it was sent to, by the ingest itself.
    if (event && !event.sample) await this.route(event, subscriptionsVersion);
    await this.context.events.markRouted(job.data.eventId);
  }

  private async route(event: EventRecord, subscriptionsVersion: number): Promise<void> {
    const subscriptions = await this.subscriptions.forEventType(event.type, subscriptionsVersion);
    const routed = await routeEvent(this.context.deliveries, event, subscriptions);
    const unattempted = routed.filter((r) => r.needsJob);
    const attemptHere = unattempted.filter((r) => r.subscription.mode === "async").slice(0, FIRST_ATTEMPTS_PER_ROUTE_JOB);
    const leftToJobs = unattempted.filter((r) => !attemptHere.includes(r));
    await enqueueFirstAttempts(this.context.queues, event.id, leftToJobs);
    const limit = pLimit(PARALLEL_FIRST_ATTEMPTS);
    await Promise.all(attemptHere.map((r) => limit(() => this.firstAttempt(event, r))));
    this.logger.debug({ eventId: event.id, deliveries: routed.length, attempted: attemptHere.length }, "event routed");
  }

  /** Attempts a new delivery; one that must run again becomes a delayed deliver job under its own id. */
  private async firstAttempt(event: EventRecord, routed: RoutedDelivery): Promise<void> {
    const delivery = newDelivery(event, routed);
    const end = await this.attempts.run({
      delivery,
      subscription: routed.subscription,
      event,
      job: { queue: QUEUE_NAMES.deliver, jobId: delivery.id, deliveryId: delivery.id },
      data: {},
    });
    if (end.finished) return;
    const job = await this.context.queues.deliver.add("deliver", deliverJobData(delivery), {
      ...DELIVER_JOB_OPTIONS,
      jobId: delivery.id,
      delay: Math.max(0, end.at - Date.now()),
    });
    await this.attempts.wakeIfHandedASlot(end, delivery, job);
  }
}

/** A delivery routing has just made (or found untouched): pending, nothing attempted. */
function newDelivery(event: EventRecord, routed: RoutedDelivery): Delivery {
  return {
    id: routed.deliveryId,
    eventId: event.id,
    subscriptionId: routed.subscription.id,
    eventType: event.type,
    status: "pending",
    createdAt: Date.now(),
    attemptCount: 0,
    replays: 0,
    runStartedAtAttempt: 0,
  };
}
