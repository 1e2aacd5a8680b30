import {
  newId,
  subscriptionMatches,
  UnavailableError,
  type EventRecord,
  type RoutedDelivery,
  type Subscription,
} from "@hookbus/core/policy";
import { routeNewEvent, routeStoringEvent } from "@hookbus/core/flows";
import {
  syncOutcomeOf,
  type NewEvent,
  type StoredEvent,
  type SubscriptionCache,
  type SyncOutcome,
  type SyncOutcomeListener,
  type VersionedSubscriptions,
} from "@hookbus/core/store";
import { enqueueRoutes, pipelineForJobs, queueFirstAttempts } from "@hookbus/core/queue";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { EventType, PublishBody, SyncResult } from "@hookbus/schemas";
import { StoreCoalescer } from "./store-coalescer.js";

/**
 * How long past a sync subscription's timeout the publisher waits for the worker's report:
 * room for queue pick-up and the report itself, inside the 250 ms the contract allows.
 */
export const SYNC_REPORT_GRACE_MS = 100;

/** How often a repeated sync publish looks for the first one's outcomes in the delivery log. */
const REPEAT_POLL_MS = 20;

/** How long a publish with no sync subscription may wait on Redis before it answers 503. */
export const ASYNC_PUBLISH_DEADLINE_MS = 5000;

const UNAVAILABLE = "Redis did not answer in time: the event may not be stored; publish it again with the same id";

export interface PublishResult {
  event: EventRecord;
  /** False when the idempotency key had been used: the first event is returned, nothing new is made. */
  created: boolean;
  /** One per matching sync subscription; undefined when none matched. */
  sync?: SyncResult[];
}

/**
 * Publishing: store the event before anything else and hand it to the route queue, with the
 * events published at the same moment; or, when sync subscriptions match, route it here at
 * once and wait for their first attempts. The ingest never calls a receiver itself: a worker
 * does, and reports back through Redis.
 */
export class Publisher {
  private readonly coalescer: StoreCoalescer;

  constructor(
    private readonly context: HookbusContext,
    private readonly syncOutcomes: SyncOutcomeListener,
    private readonly subscriptions: SubscriptionCache,
  ) {
    this.coalescer = new StoreCoalescer(context, subscriptions);
  }

  /** @param publisher the non-secret id of the API key publishing: its idempotency keys are its own */
  async publish(body: PublishBody, publisher: string, started = Date.now()): Promise<PublishResult> {
    const candidate = newEvent(body, publisher, started);
    const cached = await beforeDeadline(this.subscriptions.versioned(body.type), started + ASYNC_PUBLISH_DEADLINE_MS, UNAVAILABLE);
    const syncSubscriptions = cached.subscriptions.filter(
      (s) => s.mode === "sync" && subscriptionMatches(s, { type: body.type, data: body.data }),
    );
    if (syncSubscriptions.length === 0) return this.publishAsync(candidate, started);

    const deadline = started + Math.max(...syncSubscriptions.map((s) => s.timeoutMs)) + SYNC_REPORT_GRACE_MS;
    // Listen before anything is enqueued: a worker may attempt a sync delivery and report it
    // as soon as its job exists, which no one would hear yet.
    this.syncOutcomes.listen(
      candidate.id,
      syncSubscriptions.map((s) => s.id),
    );
    try {
      const { stored, routed } = await beforeDeadline(this.storeRoutingAtOnce(candidate, cached, deadline), deadline, UNAVAILABLE);
      const { event, created } = stored;
      if (!created) return { event, created, sync: await this.firstOutcomesOf(event, syncSubscriptions, started, deadline) };
      if (routed) {
        // Not waited for: if it fails, the reconciler routes the event again, which makes nothing twice.
        this.context.events.markRouted([event.id]).catch(() => undefined);
        return { event, created, sync: await this.outcomesOf(event, syncSubscriptions, deliveryIdsOf(routed), started, deadline) };
      }
      // The subscriptions changed after the cache read them, a change this publish must see:
      // routed again from the subscriptions as they are now.
      const candidates = await beforeDeadline(
        this.context.subscriptions.version().then((version) => this.subscriptions.forEventType(event.type, version)),
        deadline,
        UNAVAILABLE,
      );
      return { event, created, sync: await this.routeAndWait(event, syncSubscriptions, candidates, started, deadline) };
    } finally {
      this.syncOutcomes.stop(candidate.id);
    }
  }

  /**
   * Publishes many events at once: stored in one round trip (each idempotent by its own id),
   * their route jobs enqueued in another. Sync subscriptions are not waited for here: their
   * deliveries are made and retried like any. Each item's failure is its own.
   */
  async publishBatch(bodies: PublishBody[], publisher: string, started = Date.now()): Promise<(StoredEvent | Error)[]> {
    return this.storeAndRoute(
      bodies.map((body) => newEvent(body, publisher, started)),
      started,
    );
  }

  /**
   * Sends a sample of an event type to one subscription, whatever its environment, and waits
   * for the first attempt like a sync publish. The sample is stored and logged like any event,
   * and is never routed to other subscriptions.
   */
  async sendSample(
    subscription: Subscription,
    type: EventType,
    data: Record<string, unknown>,
    started = Date.now(),
  ): Promise<{ event: EventRecord; result: SyncResult }> {
    const deadline = started + subscription.timeoutMs + SYNC_REPORT_GRACE_MS;
    const candidate: EventRecord = { id: newId("evt", started), type, data, occurredAt: started, createdAt: started, sample: true };
    this.syncOutcomes.listen(candidate.id, [subscription.id]);
    try {
      const { event } = await this.context.events.store(candidate);
      const [result] = await this.routeAndWait(event, [subscription], [subscription], started, deadline, { reportAll: true });
      return { event, result: result! };
    } finally {
      this.syncOutcomes.stop(candidate.id);
    }
  }

  private async publishAsync(candidate: IdentifiedEvent, started: number): Promise<PublishResult> {
    const [result] = await this.storeAndRoute([candidate], started);
    if (result instanceof Error) throw result;
    return result!;
  }

  /** Stores events and enqueues their route jobs by the async publish deadline. */
  private async storeAndRoute(candidates: IdentifiedEvent[], started: number): Promise<(StoredEvent | Error)[]> {
    const deadline = started + ASYNC_PUBLISH_DEADLINE_MS;
    return beforeDeadline(this.storeAndEnqueueRoutes(candidates, deadline), deadline, UNAVAILABLE);
  }

  /**
   * Stores events and enqueues their route jobs in the same round trip (shared with the other
   * publishes of this moment), so each job is in the queue before the publisher is answered.
   * A candidate that was not stored (a conflict, the deadline) leaves a route job that finds no
   * event for it. A repeated key names an earlier event, which is routed again: routing is
   * idempotent, and its first publish may have stopped between storing and enqueueing.
   */
  private async storeAndEnqueueRoutes(candidates: IdentifiedEvent[], deadline: number): Promise<(StoredEvent | Error)[]> {
    const results = await this.coalescer.store(candidates.map((c) => ({ ...c, deadline })));
    await enqueueRoutes(
      this.context.queues,
      results.flatMap((r) => (r instanceof Error || r.created ? [] : [r.event.id])),
    );
    return results;
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
    const pipeline = await pipelineForJobs(this.context.queues);
    let routing: Promise<RoutedDelivery[] | undefined> = Promise.resolve(undefined);
    const [stored] = await this.context.events.storeMany([{ ...candidate, deadline }], Date.now(), {
      alongside: {
        pipeline,
        add: ([event]) => {
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
   * Routes the event, stored already, here (a sample, or a sync publish whose subscriptions
   * changed after its cache read them): one delivery to each candidate it reaches, with its
   * first job, the awaited ones on the queue sync work has to itself. Then collects the
   * awaited first attempts' outcomes by the deadline; one not reported by then is a timeout.
   * Past the deadline the routing goes on in the background; should it never finish, the
   * event is still unrouted, and the reconciler routes it.
   */
  private async routeAndWait(
    event: EventRecord,
    awaited: Subscription[],
    candidates: Subscription[],
    started: number,
    deadline: number,
    options: { reportAll?: boolean } = {},
  ): Promise<SyncResult[]> {
    const route = async () => {
      // The event is new, so its deliveries and their first jobs are made in one round trip.
      const pipeline = await pipelineForJobs(this.context.queues);
      const routed = await routeNewEvent(this.context.deliveries, event, candidates, {
        pipeline,
        add: (planned) =>
          queueFirstAttempts(pipeline, this.context.queues, event.id, planned, { ...options, reportTo: this.syncOutcomes.id }),
      });
      // Not waited for: if it fails, the reconciler routes the event again, which makes nothing twice.
      if (!event.sample) this.context.events.markRouted([event.id]).catch(() => undefined);
      return deliveryIdsOf(routed);
    };
    const routing = route();
    const deliveryIds = await beforeDeadline(routing, deadline, "").catch(() => new Map<string, string>());
    return this.outcomesOf(event, awaited, deliveryIds, started, deadline);
  }

  /** The awaited first attempts' outcomes, as reported by the deadline; one not reported by then is a timeout. */
  private async outcomesOf(
    event: EventRecord,
    awaited: Subscription[],
    deliveryIds: Map<string, string>,
    started: number,
    deadline: number,
  ): Promise<SyncResult[]> {
    const outcomes = await this.syncOutcomes.collect(event.id, deadline);
    return awaited.map((s) => toSyncResult(s, outcomes, deliveryIds, deadline - started));
  }

  /**
   * For a repeated idempotency key: the first attempt of each sync delivery, read from the
   * delivery log as soon as it is there (the first publish may still be waiting on it), up to
   * the same deadline; one not attempted by then is a timeout, as it would have been the first time.
   */
  private async firstOutcomesOf(
    event: EventRecord,
    subscriptions: Subscription[],
    started: number,
    deadline: number,
  ): Promise<SyncResult[]> {
    for (;;) {
      const deliveries = await this.context.deliveries.forEvent(event.id);
      const firsts = await Promise.all(
        subscriptions.map(async (subscription) => {
          const delivery = deliveries.find((d) => d.subscriptionId === subscription.id);
          const [first] = delivery ? await this.context.deliveries.attempts(delivery.id) : [];
          return { subscription, delivery, first };
        }),
      );
      if (firsts.every(({ first }) => first) || Date.now() >= deadline) {
        return firsts.map(
          ({ subscription, delivery, first }): SyncResult =>
            first
              ? {
                  subscriptionId: subscription.id,
                  deliveryId: delivery!.id,
                  outcome: syncOutcomeOf(first.error),
                  statusCode: first.statusCode,
                  body: first.responseBody,
                  durationMs: first.durationMs,
                }
              : { subscriptionId: subscription.id, deliveryId: delivery?.id, outcome: "timeout", durationMs: deadline - started },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, REPEAT_POLL_MS));
    }
  }
}

/** Each routed delivery's id, by its subscription's. */
function deliveryIdsOf(routed: RoutedDelivery[]): Map<string, string> {
  return new Map(routed.map((r) => [r.subscription.id, r.deliveryId]));
}

/** An event to store whose id is chosen already: a sync publish listens on it before storing. */
type IdentifiedEvent = NewEvent & { id: string };

/** A publish body as the event to store, with its id chosen now. */
function newEvent(body: PublishBody, publisher: string, started: number): IdentifiedEvent {
  return {
    id: newId("evt", started),
    type: body.type,
    data: body.data,
    idempotencyKey: body.id,
    idempotencyScope: publisher,
    occurredAt: body.occurredAt ? Date.parse(body.occurredAt) : undefined,
  };
}

function toSyncResult(subscription: Subscription, outcomes: SyncOutcome[], deliveryIds: Map<string, string>, waitedMs: number): SyncResult {
  const reported = outcomes.find((o) => o.subscriptionId === subscription.id);
  if (reported) return reported;
  return { subscriptionId: subscription.id, deliveryId: deliveryIds.get(subscription.id), outcome: "timeout", durationMs: waitedMs };
}

/** The promise's value, or UnavailableError once the deadline passes. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError(message || "deadline passed")), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
