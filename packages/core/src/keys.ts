import type { DeliveryStatus } from "./domain.js";

/**
 * Every Redis key Hookbus writes outside BullMQ. All start with the queue prefix, whose
 * `{hash tag}` keeps them in one Redis Cluster slot with the queues, so that scripts may
 * touch several of them.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  subscription(id: string) { return `${this.prefix}:sub:${id}`; }
  /** Ids of every subscription, for listing. */
  subscriptions() { return `${this.prefix}:subs`; }
  /** Ids of the subscriptions to one event type: what routing reads. */
  subscriptionsByType(type: string) { return `${this.prefix}:subs:type:${type}`; }

  event(id: string) { return `${this.prefix}:evt:${id}`; }
  /** subscriptionId -> deliveryId for one event: makes routing idempotent. */
  eventDeliveries(eventId: string) { return `${this.prefix}:evt:${eventId}:dlv`; }
  idempotency(key: string) { return `${this.prefix}:idem:${key}`; }

  delivery(id: string) { return `${this.prefix}:dlv:${id}`; }
  attempts(deliveryId: string) { return `${this.prefix}:dlv:${deliveryId}:att`; }
  deliveriesAll() { return `${this.prefix}:dlvidx:all`; }
  deliveriesByStatus(status: DeliveryStatus) { return `${this.prefix}:dlvidx:status:${status}`; }
  deliveriesBySubscription(subscriptionId: string) { return `${this.prefix}:dlvidx:sub:${subscriptionId}`; }
  deliveriesByType(type: string) { return `${this.prefix}:dlvidx:type:${type}`; }

  /** When a subscription's deliveries last succeeded and failed. */
  subscriptionOutcomes(subscriptionId: string) { return `${this.prefix}:sub:${subscriptionId}:outcomes`; }
  replay(id: string) { return `${this.prefix}:rpl:${id}`; }
  /** Replay claims whose job is not yet enqueued, scored by claim time: what recovery re-enqueues. */
  replayClaimsNotEnqueued() { return `${this.prefix}:rpl:unqueued`; }

  /** Pub/sub channel announcing that a subscription was created, changed or deleted. */
  subscriptionChanges() { return `${this.prefix}:subs:changed`; }

  /** Pub/sub channel where workers report the first attempt of an event's sync deliveries. */
  syncOutcomes(eventId: string) { return `${this.prefix}:sync:${eventId}`; }
}
