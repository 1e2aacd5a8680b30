import type { RedisConnection } from "./redis.js";
import type { Delivery, EventRecord, Subscription } from "../policy/domain.js";
import { execPipeline, toDelivery } from "./delivery-queries.js";
import type { Keys } from "./keys.js";
import type { SubscriptionStore } from "./subscription-store.js";

/** What one attempt needs; each part is undefined when it no longer exists. */
export interface AttemptInputs {
  delivery?: Delivery;
  subscription?: Subscription;
  event?: EventRecord;
}

/**
 * The delivery, its subscription (as it is now, so a fixed URL applies to the next retry)
 * and its event, read at once: this runs before every attempt, on the hot path. A caller
 * that has just loaded the subscription passes it (`known`), sparing its read and decryption.
 */
export async function loadAttemptInputs(
  { redis, keys, subscriptions }: { redis: RedisConnection; keys: Keys; subscriptions: SubscriptionStore },
  ids: { deliveryId: string; subscriptionId: string; eventId: string },
  known?: Subscription,
): Promise<AttemptInputs> {
  // The delivery and its event share their partition's slot; the subscription is in another.
  const [[hash, event], subscription] = await Promise.all([
    execPipeline<unknown>(redis.pipeline().hgetall(keys.delivery(ids.deliveryId)).get(keys.event(ids.eventId))),
    known ? undefined : redis.get(keys.subscription(ids.subscriptionId)),
  ]);
  const deliveryHash = hash as Record<string, string>;
  return {
    delivery: deliveryHash.id ? toDelivery(deliveryHash) : undefined,
    subscription: known ?? (subscription ? subscriptions.codec.decode(subscription as string) : undefined),
    event: event ? (JSON.parse(event as string) as EventRecord) : undefined,
  };
}
