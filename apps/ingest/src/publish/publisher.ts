import { subscriptionMatches, UnavailableError, type EventRecord, type Subscription } from "@hookbus/core/policy";
import type { StoredEvent, SubscriptionCache, SyncOutcomeListener } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { EventType, PublishBody, SyncResult } from "@hookbus/schemas";
import { AsyncPublisher } from "./async-publish.js";
import { ASYNC_PUBLISH_DEADLINE_MS, beforeDeadline, UNAVAILABLE } from "./deadline.js";
import type { EventPlacement } from "./known-projects.js";
import { newEvent } from "./new-event.js";
import { sendSample } from "./sample.js";
import { SyncPublisher } from "./sync-publish.js";

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
  private readonly async: AsyncPublisher;
  private readonly sync: SyncPublisher;

  constructor(
    private readonly context: HookbusContext,
    private readonly syncOutcomes: SyncOutcomeListener,
    private readonly subscriptions: SubscriptionCache,
  ) {
    this.async = new AsyncPublisher(context, subscriptions);
    this.sync = new SyncPublisher(context, syncOutcomes, subscriptions);
  }

  /**
   * @param publisher the non-secret id of the API key publishing: its idempotency keys are its own
   * @param placement the project it is published in (publishProject), with its retention
   */
  async publish(body: PublishBody, publisher: string, placement: EventPlacement, started = Date.now()): Promise<PublishResult> {
    const candidate = newEvent(this.context.events, body, publisher, started, placement);
    const cached = await beforeDeadline(this.subscriptions.versioned(candidate), started + ASYNC_PUBLISH_DEADLINE_MS, UNAVAILABLE);
    const syncSubscriptions = cached.subscriptions.filter((s) => s.mode === "sync" && subscriptionMatches(s, candidate));
    if (syncSubscriptions.length > 0) return this.sync.publish(candidate, cached, syncSubscriptions, started);
    const [result] = await this.async.storeAndRoute([candidate], started);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Publishes many events at once: stored in one round trip (each idempotent by its own id),
   * their route jobs enqueued in another. Sync subscriptions are not waited for here: their
   * deliveries are made and retried like any. Each item's failure is its own.
   */
  async publishBatch(
    bodies: { body: PublishBody; placement: EventPlacement }[],
    publisher: string,
    started = Date.now(),
  ): Promise<(StoredEvent | Error)[]> {
    // The batch's events without keys stay together: one partition, one round trip and route job.
    const partition = this.context.events.partitionOfTheMoment();
    const results = await this.async.storeAndRoute(
      bodies.map(({ body, placement }) => newEvent(this.context.events, body, publisher, started, placement, partition)),
      started,
    );
    // Redis stored none of them (it is gone, or refused them all): the whole batch is a 503, not an answer item by item.
    if (results.length > 0 && results.every((r) => r instanceof UnavailableError)) throw results[0];
    return results;
  }

  /** Sends a sample of an event type to one subscription and waits for its first attempt (see sendSample). */
  async sendSample(
    subscription: Subscription,
    type: EventType,
    data: Record<string, unknown>,
    started = Date.now(),
  ): Promise<{ event: EventRecord; result: SyncResult }> {
    return sendSample(this.context, this.syncOutcomes, this.sync, subscription, type, data, started);
  }
}
