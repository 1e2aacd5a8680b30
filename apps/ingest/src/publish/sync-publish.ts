import { partitionOfId, type EventRecord, type RoutedDelivery, type Subscription } from "@hookbus/core/policy";
import { releaseRoutedInOrder, routeNewEvent, routeStoringEvent } from "@hookbus/core/flows";
import {
  loggedSyncOutcomes,
  type StoredEvent,
  type SubscriptionCache,
  type SyncOutcomeListener,
  type VersionedSubscriptions,
} from "@hookbus/core/store";
import { pipelineForJobs, queueFirstAttempts } from "@hookbus/core/queue";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { SyncResult } from "@hookbus/schemas";
import { beforeDeadline, UNAVAILABLE } from "./deadline.js";
import type { IdentifiedEvent } from "./new-event.js";
import { firstOutcomesOf } from "./repeated-key.js";
import { toSyncResult } from "./sync-results.js";

/**
 * How long past a sync subscription's timeout the publisher waits for the worker's report:
 * room for queue pick-up and the report itself, inside the 250 ms the contract allows.
 */
export const SYNC_REPORT_GRACE_MS = 100;

/** How long an unreported outcome is looked for in the log past the deadline: the rest of the 250 ms the contract allows. */
const LOG_READ_BUDGET_MS = 100;

/**
 * Sync publishing: the event is routed here at once, and the request waits for the first
 * attempts of its sync deliveries, which a worker makes and reports back through Redis.
 */
export class SyncPublisher {
  constructor(
    private readonly context: HookbusContext,
    private readonly syncOutcomes: SyncOutcomeListener,
    private readonly subscriptions: SubscriptionCache,
  ) {}

  /** Publishes an event some of whose sync subscriptions (`awaited`, from `cached`) match, and waits for them. */
  async publish(
    candidate: IdentifiedEvent,
    cached: VersionedSubscriptions,
    awaited: Subscription[],
    started: number,
  ): Promise<{ event: EventRecord; created: boolean; sync: SyncResult[] }> {
    const deadline = started + Math.max(...awaited.map((s) => s.timeoutMs)) + SYNC_REPORT_GRACE_MS;
    // Listen before anything is enqueued: a worker may attempt a sync delivery and report it
    // as soon as its job exists, which no one would hear yet.
    this.syncOutcomes.listen(
      candidate.id,
      awaited.map((s) => s.id),
    );
    try {
      const { stored, routed } = await beforeDeadline(this.storeRoutingAtOnce(candidate, cached, deadline), deadline, UNAVAILABLE);
      const { event, created } = stored;
      if (!created) return { event, created, sync: await firstOutcomesOf(this.context.deliveries, event, awaited, started, deadline) };
      if (routed) {
        // Not waited for: if it fails, the reconciler routes the event again, which makes nothing twice.
        this.markRouted(event);
        return { event, created, sync: await this.outcomesOf(event, awaited, deliveryIdsOf(routed), started, deadline) };
      }
      // The subscriptions changed after the cache read them, a change this publish must see:
      // routed again from the subscriptions as they are now.
      const candidates = await beforeDeadline(
        this.context.subscriptions.version().then((version) => this.subscriptions.forEventType(event, version)),
        deadline,
        UNAVAILABLE,
      );
      return { event, created, sync: await this.routeAndWait(event, awaited, candidates, started, deadline) };
    } finally {
      this.syncOutcomes.stop(candidate.id);
    }
  }

  /**
   * Routes the event, stored already, here (a sample, or a sync publish whose subscriptions
   * changed after its cache read them): one delivery to each candidate it reaches, with its
   * first job, the awaited ones on the queue sync work has to itself. Then collects the
   * awaited first attempts' outcomes by the deadline; one not reported by then is a timeout.
   * Past the deadline the routing goes on in the background; should it never finish, the
   * event is still unrouted, and the reconciler routes it. The caller listens for the outcomes.
   */
  async routeAndWait(
    event: EventRecord,
    awaited: Subscription[],
    candidates: Subscription[],
    started: number,
    deadline: number,
    options: { reportAll?: boolean } = {},
  ): Promise<SyncResult[]> {
    const route = async () => {
      // The event is new, so its deliveries and their first jobs are made in one round trip.
      const pipeline = await pipelineForJobs(this.context.queues, partitionOfId(event.id));
      const routed = await routeNewEvent(this.context.deliveries, event, candidates, {
        pipeline,
        add: (planned) =>
          queueFirstAttempts(pipeline, this.context.queues, event.id, planned, { ...options, reportTo: this.syncOutcomes.id }),
      });
      // Not waited for: if it fails, the reconciler routes the event again, which makes nothing twice.
      if (!event.sample) this.markRouted(event);
      return deliveryIdsOf(routed);
    };
    const routing = route();
    const deliveryIds = await beforeDeadline(routing, deadline, "").catch(() => new Map<string, string>());
    return this.outcomesOf(event, awaited, deliveryIds, started, deadline);
  }

  /**
   * Notes the event routed, for its key's later events first: should that fail, it is still
   * unrouted, and the route job the reconciler gives it releases them.
   */
  private markRouted(event: EventRecord): void {
    releaseRoutedInOrder(this.context, [event])
      .then(() => this.context.events.markRouted([event.id]))
      .catch(() => undefined);
  }

  /**
   * A sync publish's one round trip: stores the event and, in the same pipeline, makes its
   * deliveries from the subscriptions the cache holds, with their first jobs (the awaited ones
   * on the queue sync work has to itself). No route job: the publish routes its event itself,
   * since it must make its sync deliveries at once, and a route job would only repeat the work
   * beside the attempts it waits on. The deliveries are made only if the subscriptions are
   * still at the version the cache read them at, so the routing sees every change made before
   * this publish began; `routed` is undefined when they were not made (the subscriptions had
   * changed, or the idempotency key names an earlier event and nothing was stored).
   */
  private async storeRoutingAtOnce(
    candidate: IdentifiedEvent,
    cached: VersionedSubscriptions,
    deadline: number,
  ): Promise<{ stored: StoredEvent; routed?: RoutedDelivery[] }> {
    let routing: Promise<RoutedDelivery[] | undefined> = Promise.resolve(undefined);
    const [stored] = await this.context.events.storeMany([{ ...candidate, deadline }], Date.now(), {
      alongside: {
        pipelineFor: (partition) => pipelineForJobs(this.context.queues, partition),
        add: ([event], pipeline) => {
          routing = routeStoringEvent(this.context.deliveries, event!, cached, {
            pipeline,
            add: (planned) => queueFirstAttempts(pipeline, this.context.queues, event!.id, planned, { reportTo: this.syncOutcomes.id }),
          });
        },
      },
    });
    if (stored instanceof Error) throw stored;
    return { stored: stored!, routed: await routing };
  }

  /**
   * The awaited first attempts' outcomes, as reported by the deadline. One not reported is
   * looked for in the delivery log before it is called a timeout: its report may have been
   * lost (see SyncOutcomeListener).
   */
  private async outcomesOf(
    event: EventRecord,
    awaited: Subscription[],
    deliveryIds: Map<string, string>,
    started: number,
    deadline: number,
  ): Promise<SyncResult[]> {
    const outcomes = await this.syncOutcomes.collect(event.id, deadline);
    const unreported = awaited.filter((s) => !outcomes.some((o) => o.subscriptionId === s.id)).map((s) => s.id);
    if (unreported.length > 0) {
      const logged = await beforeDeadline(
        loggedSyncOutcomes(this.context.deliveries, event.id, unreported),
        Date.now() + LOG_READ_BUDGET_MS,
        "",
      ).catch(() => undefined);
      outcomes.push(...(logged?.outcomes ?? []));
    }
    return awaited.map((s) => toSyncResult(s, outcomes, deliveryIds, deadline - started));
  }
}

/** Each routed delivery's id, by its subscription's. */
function deliveryIdsOf(routed: RoutedDelivery[]): Map<string, string> {
  return new Map(routed.map((r) => [r.subscription.id, r.deliveryId]));
}
