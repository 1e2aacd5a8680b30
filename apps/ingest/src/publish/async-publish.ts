import { StoreCoalescer } from "@hookbus/core/flows";
import { enqueueRoutes } from "@hookbus/core/queue";
import type { StoredEvent, SubscriptionCache } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import { ASYNC_PUBLISH_DEADLINE_MS, beforeDeadline, UNAVAILABLE } from "./deadline.js";
import type { IdentifiedEvent } from "./new-event.js";

/**
 * Async and batch publishing: the events are stored and handed to the route queue, with the
 * events published at the same moment, before the publisher is answered.
 */
export class AsyncPublisher {
  private readonly coalescer: StoreCoalescer;

  constructor(
    private readonly context: HookbusContext,
    subscriptions: SubscriptionCache,
  ) {
    this.coalescer = new StoreCoalescer(context, subscriptions);
  }

  /** Stores events and enqueues their route jobs by the async publish deadline. */
  async storeAndRoute(candidates: IdentifiedEvent[], started: number): Promise<(StoredEvent | Error)[]> {
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
    // Not needed for the answer: an earlier event that is still unrouted is the reconciler's.
    await enqueueRoutes(
      this.context.queues,
      results.flatMap((r) => (r instanceof Error || r.created ? [] : [r.event.id])),
    ).catch(() => undefined);
    return results;
  }
}
